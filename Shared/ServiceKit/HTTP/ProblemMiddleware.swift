import Hummingbird
import Logging

/// Turns every error a handler throws into problem+json. Unknown errors become a
/// generic 500 whose detail says nothing about the cause; the cause goes to the log
/// with the request id, never to the client (a database message can leak schema).
public struct ProblemMiddleware<Context: ServiceContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            return try problem.response(from: request, context: context)
        } catch let refusal as any ProblemConvertible {
            return try refusal.problem.response(from: request, context: context)
        } catch let error as HTTPError {
            var problem = Problem(status: error.status, detail: error.body)
            if error.status == .notFound, error.body == nil { problem.detail = "No route for \(request.method) \(request.uri.path)." }
            return try problem.response(from: request, context: context)
        } catch let error as any HTTPResponseError where error.status.code < 500 {
            return try Problem(status: error.status).response(from: request, context: context)
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            return try Problem(status: .internalServerError, detail: "An unexpected error occurred. Quote the request id when reporting it.")
                .response(from: request, context: context)
        }
    }
}

/// A typed error a store (or any layer below the routes) throws, and the problem response
/// it means: the mapping is written once, next to the routes, and the problem middleware
/// applies it, so stores need to know nothing of HTTP.
public protocol ProblemConvertible: Error {
    var problem: Problem { get }
}
