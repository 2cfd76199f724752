import Hummingbird
import Logging

extension Router where Context: ServiceContext {
    /// A router with the standard middleware every service uses, outermost first:
    /// request id, access log, metrics per route and status, problem+json errors, no NUL
    /// characters in the path or query;
    /// and the operational routes `/healthz`, `/readyz`, `/metrics`.
    public static func service(readiness: Readiness) -> Router<Context> {
        let router = Router<Context>(context: Context.self)
        router.add(middleware: RequestIDMiddleware())
        // A span per request, continuing the caller's trace (traceparent); free without a tracer.
        router.add(middleware: TracingMiddleware())
        router.add(middleware: DrainingMiddleware(readiness: readiness))
        router.add(middleware: RequestLogMiddleware(.info))
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ProblemMiddleware())
        router.add(middleware: NULGuardMiddleware())
        _ = PlatformMetrics.registry
        router.addOperationalRoutes(readiness: readiness)
        return router
    }
}
