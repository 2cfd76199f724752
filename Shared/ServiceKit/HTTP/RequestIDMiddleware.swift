import Foundation
import HTTPTypes
import Hummingbird
import Logging

extension HTTPField.Name {
    public static let requestID = Self("X-Request-ID")!
    public static let idempotencyKey = Self("Idempotency-Key")!
}

/// Takes the caller's `X-Request-ID` (or makes one), puts it in every log line of the
/// request and echoes it on the response.
public struct RequestIDMiddleware<Context: ServiceContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let given = request.headers[.requestID].flatMap { $0.count <= 200 && !$0.isEmpty ? $0 : nil }
        let id = given ?? UUID().uuidString.lowercased()
        context.requestID = id
        context.logger[metadataKey: "request_id"] = .string(id)
        var response = try await next(request, context)
        response.headers[.requestID] = id
        return response
    }
}
