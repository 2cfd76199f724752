import Hummingbird
import HummingbirdTesting
import Logging
import ServiceKit
import Synchronization
import Testing

/// Everything logged, as text, for assertions.
final class CapturedLogs: Sendable {
    let lines = Mutex<[String]>([])

    struct Handler: LogHandler {
        let logs: CapturedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            logs.lines.withLock { $0.append("\(event.message) \(all)") }
        }
    }
}

@Suite("request logging")
struct RequestLogTests {
    @Test("a request's query (which may hold a stream ticket) is never logged; its path and method are")
    func queryNotLogged() async throws {
        let logs = CapturedLogs()
        let router = Router()
        router.add(middleware: RequestLogMiddleware(.info))
        router.get("v1/notifications/stream") { _, _ in "ok" }
        let app = Application(router: router, logger: Logger(label: "test") { _ in CapturedLogs.Handler(logs: logs) })
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/notifications/stream?ticket=stk_secret-ticket", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
        let text = logs.lines.withLock { $0.joined(separator: "\\n") }
        #expect(text.contains("/v1/notifications/stream"))
        #expect(!text.contains("stk_secret-ticket"))
    }
}
