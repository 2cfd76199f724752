import Foundation
import TestSupport
import Testing

/// One request's trace across the platform: the gateway's span, the tasks service's, and the
/// search consumer's span for the event the request wrote, all exported over OTLP/HTTP to a
/// receiver on loopback (infra/dev/otlp_receiver.py, PyPI opentelemetry-proto). Tracing is
/// bootstrapped once per process, so `make test` runs this suite alone with TRACING_TEST=1.
@Suite("a trace across the gateway, a service and Kafka", .enabled(if: ProcessInfo.processInfo.environment["TRACING_TEST"] != nil))
struct TracingTests {
    struct Span: Decodable {
        var trace_id: String
        var span_id: String
        var parent_span_id: String
        var name: String
        var attributes: [String: String]

        var isDatabase: Bool { attributes["db.system.name"] == "postgresql" }
    }

    /// The receiver, running; the file its spans go to.
    static func receiver() throws -> (process: Process, spans: URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("otlp-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let process = Process()
        process.executableURL = root.appendingPathComponent(".dev/venv/bin/python")
        process.arguments = [
            root.appendingPathComponent("infra/dev/otlp_receiver.py").path, folder.appendingPathComponent("port").path,
            folder.appendingPathComponent("spans.jsonl").path,
        ]
        try process.run()
        return (process, folder.appendingPathComponent("spans.jsonl"))
    }

    static func spans(_ file: URL) -> [Span] {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Span.self, from: Data($0.utf8)) }
    }

    @Test(
        "POST /v1/tasks through the gateway: one trace id from the gateway's span to the search consumer's indexing span, with the SQL of each in its own span"
    )
    func oneTrace() async throws {
        let (receiver, file) = try Self.receiver()
        // SIGKILL: the test process ignores SIGTERM (ServiceLifecycle), and its children inherit that.
        defer { kill(receiver.processIdentifier, SIGKILL) }
        let portFile = file.deletingLastPathComponent().appendingPathComponent("port")
        #expect(try await eventually(timeout: .seconds(20)) { FileManager.default.fileExists(atPath: portFile.path) })
        let port = try String(contentsOf: portFile, encoding: .utf8)
        // Before any service starts: the first one bootstraps the process's tracer.
        setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:\(port)", 1)
        setenv("OTEL_BSP_SCHEDULE_DELAY", "200", 1)
        let gateway = try await Stack.shared.url()
        let signup = try await signUp(gateway, name: "Ada", tenant: "Traced")
        let token = try #require(signup.string("accessToken"))
        let created = try await TestHTTP.send("POST", "\(gateway)/v1/tasks", json: ["title": "Trace me across Kafka"], token: token)
        #expect(created.status == 201)

        // The gateway names its span "<method> <route prefix>" (a child of the test client's,
        // which sends a traceparent); the service's request span is its child; the consumer's
        // span carries the same trace id. The statements each sends are a span under it, named
        // for the store function that sent them.
        func trace() -> (gateway: Span, service: Span, consumer: Span, serviceSQL: Span, consumerSQL: Span)? {
            let spans = Self.spans(file)
            for root in spans where root.name == "POST /v1/tasks" {
                if let service = spans.first(where: { $0.parent_span_id == root.span_id }),
                    let consumer = spans.first(where: { $0.trace_id == root.trace_id && $0.name == "tasks.task.v1 process" }),
                    let serviceSQL = spans.first(where: { $0.parent_span_id == service.span_id && $0.name == "TaskStore.create" }),
                    let consumerSQL = spans.first(where: { $0.parent_span_id == consumer.span_id && $0.isDatabase })
                {
                    return (root, service, consumer, serviceSQL, consumerSQL)
                }
            }
            return nil
        }
        var found = trace()
        for _ in 0..<150 where found == nil {
            try await Task.sleep(for: .milliseconds(200))
            found = trace()
        }
        let trace = try #require(found, "spans received: \(Self.spans(file).map(\.name))")
        #expect(trace.service.trace_id == trace.gateway.trace_id)
        #expect(trace.consumer.trace_id == trace.gateway.trace_id)
        #expect(!trace.consumer.parent_span_id.isEmpty)
        #expect(trace.serviceSQL.isDatabase)
        #expect(trace.serviceSQL.trace_id == trace.gateway.trace_id)
        #expect(trace.consumerSQL.trace_id == trace.gateway.trace_id)
        // Work outside any trace (the outbox relay's polling, the workers' claims) sends no span.
        #expect(Self.spans(file).allSatisfy { !$0.isDatabase || !$0.parent_span_id.isEmpty })
    }
}
