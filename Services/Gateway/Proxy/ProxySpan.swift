import Instrumentation
import NIOCore
import ServiceKit
import Tracing

/// The gateway's span for one proxied request, when a tracer is bootstrapped: a child of the
/// client's `traceparent` if it sent one, and the parent the upstream is told of.
struct ProxySpan {
    /// Whether spans are made (a tracer other than the no-op one is bootstrapped); read once,
    /// after the gateway bootstrapped tracing and before its first request.
    static let enabled = !(InstrumentationSystem.tracer is NoOpTracer)

    let span: any Span
    /// The `traceparent` for the upstream: this span as its parent.
    let traceparent: String?

    init?(_ head: RequestHead, route: String) {
        guard Self.enabled else { return nil }
        span = InstrumentationSystem.tracer.startSpan(
            "\(head.method) \(route)", context: TraceCarrier.context(continuing: head.message.first(.traceparent)), ofKind: .server)
        span.attributes["http.request.method"] = "\(head.method)"
        span.attributes["http.route"] = route
        traceparent = TraceCarrier.traceparent(of: span.context)
    }

    func end(status: Int) {
        span.attributes["http.response.status_code"] = status
        if status >= 500 { span.setStatus(SpanStatus(code: .error)) }
        span.end()
    }
}
