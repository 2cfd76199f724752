import Contracts
import Foundation
import Hummingbird

/// An RFC 9457 problem detail. Every error a client sees is one of these, rendered as
/// `application/problem+json`.
public struct Problem: Error, HTTPResponseError, Codable, Sendable, Equatable {
    public struct FieldError: Codable, Sendable, Equatable {
        public var field: String
        public var message: String
        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    public var type: String
    public var title: String
    public var statusCode: Int
    public var detail: String?
    public var errors: [FieldError]?
    /// Seconds, for 429 and 503 answers (sent as `Retry-After`, RFC 9110 §10.2.3).
    public var retryAfter: Int?
    /// An RFC 6749 §5.2 error code (`invalid_client`, `invalid_grant`, ...), as the
    /// extension member `error`, so OAuth client libraries understand token-endpoint errors.
    public var oauthError: String?

    enum CodingKeys: String, CodingKey {
        case type, title, detail, errors
        case statusCode = "status"
        case oauthError = "error"
    }

    public init(status: HTTPResponse.Status, type: String? = nil, title: String? = nil, detail: String? = nil, errors: [FieldError]? = nil) {
        self.statusCode = status.code
        self.title = title ?? status.reasonPhrase
        self.type = type ?? "https://problems.platform.dev/\(Problem.slug(status))"
        self.detail = detail
        self.errors = errors
    }

    public var status: HTTPResponse.Status { .init(code: statusCode) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        let body = (try? PlatformJSON.encoder.encode(self)) ?? Data()
        return Response(status: status, headers: headers, body: .init(byteBuffer: .init(bytes: body)))
    }

    static func slug(_ status: HTTPResponse.Status) -> String {
        status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "-")
    }
}

extension Problem {
    public static func badRequest(_ detail: String) -> Problem { Problem(status: .badRequest, detail: detail) }
    public static func notFound(_ detail: String = "The resource does not exist.") -> Problem { Problem(status: .notFound, detail: detail) }
    public static func conflict(_ detail: String) -> Problem { Problem(status: .conflict, detail: detail) }
    public static func unauthorized(_ detail: String) -> Problem { Problem(status: .unauthorized, detail: detail) }
    public static func forbidden(_ detail: String) -> Problem { Problem(status: .forbidden, detail: detail) }
    public static func tooManyRequests(_ detail: String, retryAfter: Int) -> Problem {
        var problem = Problem(status: .tooManyRequests, detail: detail)
        problem.retryAfter = max(1, retryAfter)
        return problem
    }
    public static func oauth(_ status: HTTPResponse.Status, _ error: String, _ detail: String) -> Problem {
        var problem = Problem(status: status, detail: detail)
        problem.oauthError = error
        return problem
    }
    public static func preconditionFailed(_ detail: String) -> Problem { Problem(status: .preconditionFailed, detail: detail) }
    public static func validation(_ errors: [FieldError]) -> Problem {
        Problem(
            status: .unprocessableContent, type: "https://problems.platform.dev/validation", title: "Validation failed",
            detail: "The request has invalid fields.", errors: errors
        )
    }
}
