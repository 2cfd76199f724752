import Foundation
import Instrumentation
import OTel
import ServiceContextModule
import ServiceLifecycle
import Synchronization

extension Observability {
    private static let tracing = Mutex(false)

    /// Traces exported over OTLP/HTTP (protobuf) when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (the
    /// other `OTEL_*` variables apply); otherwise none, at no cost. The process's first call
    /// bootstraps: tests start many services in one process, and they share its tracer. Answers
    /// the exporter's background service, to run beside the others, or nil.
    public static func bootstrapTracing(
        serviceName: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> (any Service)? {
        guard environment["OTEL_EXPORTER_OTLP_ENDPOINT"] != nil else { return nil }
        return try tracing.withLock { done -> (any Service)? in
            guard !done else { return nil }
            done = true
            var configuration = OTel.Configuration.default
            configuration.serviceName = serviceName
            // Metrics stay with Prometheus, logs with stdout.
            configuration.metrics.enabled = false
            configuration.logs.enabled = false
            let backend = try OTel.makeTracingBackend(configuration: configuration)
            InstrumentationSystem.bootstrap(backend.factory)
            return backend.service
        }
    }
}

/// Trace context (`traceparent`) read from and written to a string dictionary: a Kafka
/// event's, an outbox row's, a proxied request's.
public struct TraceCarrier: Extractor, Injector {
    public init() {}
    public func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
    public func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }

    /// A context continuing the trace `traceparent` names; a top-level one without it.
    public static func context(continuing traceparent: String?) -> ServiceContextModule.ServiceContext {
        var context = ServiceContextModule.ServiceContext.topLevel
        if let traceparent {
            InstrumentationSystem.instrument.extract(["traceparent": traceparent], into: &context, using: TraceCarrier())
        }
        return context
    }

    /// The `traceparent` of `context`'s span; nil without a tracer or a span.
    public static func traceparent(of context: ServiceContextModule.ServiceContext) -> String? {
        var carrier: [String: String] = [:]
        InstrumentationSystem.instrument.inject(context, into: &carrier, using: TraceCarrier())
        return carrier["traceparent"]
    }
}
