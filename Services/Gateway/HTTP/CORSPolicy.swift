import HTTPTypes
import Hummingbird
import ServiceKit

/// CORS for the configured console origins (exact match). Preflights are answered here,
/// never forwarded; other requests get the allow headers on their answer, errors included.
struct CORSPolicy: RouterMiddleware {
    typealias Context = ServiceRequestContext
    let origins: Set<String>

    static let exposed = "RateLimit, RateLimit-Policy, Retry-After, X-Request-ID, ETag, Location"
    static let methods = "GET, POST, PUT, PATCH, DELETE, OPTIONS"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin] else { return try await next(request, context) }
        let allowed = origins.contains(origin)
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            guard allowed else { throw Problem.forbidden("The origin \(origin) may not call this API.") }
            var headers: HTTPFields = [
                .accessControlAllowOrigin: origin, .accessControlAllowMethods: Self.methods, .accessControlMaxAge: "600", .vary: "Origin",
            ]
            headers[.accessControlAllowHeaders] = request.headers[.accessControlRequestHeaders] ?? "Authorization, Content-Type"
            return Response(status: .noContent, headers: headers)
        }
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        if allowed {
            response.headers[.accessControlAllowOrigin] = origin
            response.headers[.accessControlExposeHeaders] = Self.exposed
            response.headers[.vary] = "Origin"
        }
        return response
    }
}
