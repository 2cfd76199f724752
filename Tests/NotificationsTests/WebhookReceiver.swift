import Foundation
import Hummingbird
import NIOCore
import Synchronization
import TestSupport

/// A tenant's webhook endpoint for tests: records every request and answers each path
/// with the statuses it was told (then 200); paths under /slow/ answer after 10 s.
final class WebhookReceiver: Sendable {
    struct Received: Sendable {
        var path: String
        var headers: [String: String]
        var body: String
        var bytes: Data
        var at = Date()
    }

    let server: TestServer
    private let state: State

    final class State: Sendable {
        let received = Mutex<[Received]>([])
        let scripts = Mutex<[String: [Int]]>([:])
    }

    var baseURL: String { server.baseURL }

    static let shared = StartOnce<WebhookReceiver> { try await WebhookReceiver.start() }

    private init(server: TestServer, state: State) {
        self.server = server
        self.state = state
    }

    static func start() async throws -> WebhookReceiver {
        let state = State()
        let router = Router()
        router.post("**") { request, context -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let path = request.uri.path
            if path.hasPrefix("/slow/") { try await Task.sleep(for: .seconds(10)) }
            state.received.withLock { $0.append(Received(path: path, headers: headers, body: String(buffer: body), bytes: Data(buffer: body))) }
            let status = state.scripts.withLock { scripts -> Int in
                guard var script = scripts[path], !script.isEmpty else { return 200 }
                let next = script.removeFirst()
                scripts[path] = script
                return next
            }
            return Response(status: .init(code: status), headers: status == 429 ? [.retryAfter: "1"] : [:])
        }
        let server = try await TestServer.start { port in
            Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { await port($0.localAddress?.port ?? 0) })
        }
        return WebhookReceiver(server: server, state: state)
    }

    /// The next answers for `path`, in order.
    func script(_ path: String, _ statuses: [Int]) { state.scripts.withLock { $0[path] = statuses } }

    func requests(to path: String) -> [Received] { state.received.withLock { $0.filter { $0.path == path } } }

    func waitFor(_ count: Int, to path: String, timeout: Duration = .seconds(60)) async throws -> [Received] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let seen = requests(to: path)
            if seen.count >= count { return seen }
            try await Task.sleep(for: .milliseconds(50))
        }
        return requests(to: path)
    }
}
