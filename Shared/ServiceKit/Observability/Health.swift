import Contracts
import Foundation
import Hummingbird
import Synchronization

/// Readiness: named checks that must all pass before traffic is sent to the pod.
/// Liveness (`/healthz`) only says the process answers; it never checks dependencies,
/// or a database blip would make Kubernetes restart every replica at once.
public final class Readiness: Sendable {
    public typealias Check = @Sendable () async -> Bool
    private let checks = Mutex<[(String, Check)]>([])
    private let drainingFlag = Atomic<Bool>(false)

    public init() {}

    public func add(_ name: String, _ check: @escaping Check) {
        checks.withLock { $0.append((name, check)) }
    }

    /// Shutting down: readiness fails from now on, so load balancers stop sending traffic,
    /// while the server still answers what reaches it.
    public var isDraining: Bool { drainingFlag.load(ordering: .acquiring) }
    public func drain() { drainingFlag.store(true, ordering: .releasing) }

    public func evaluate() async -> [String: Bool] {
        let all = checks.withLock { $0 }
        var result: [String: Bool] = [:]
        for (name, check) in all { result[name] = await check() }
        if isDraining { result["not shutting down"] = false }
        return result
    }
}

/// While the replica drains, every answer says `Connection: close`: a client (the
/// gateway) opens a new connection for its next request instead of keeping one the
/// replica is about to close, where a request could cross the close and be lost.
public struct DrainingMiddleware<Context: RequestContext>: RouterMiddleware {
    let readiness: Readiness

    public init(readiness: Readiness) { self.readiness = readiness }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if readiness.isDraining { response.headers[.connection] = "close" }
        return response
    }
}

/// A flag a start-up step sets when it has finished (e.g. migrations applied), and the one
/// way to wait for it.
public final class ReadyFlag: Sendable {
    private let value = Atomic<Bool>(false)
    public init() {}
    public func set() { value.store(true, ordering: .releasing) }
    public var isSet: Bool { value.load(ordering: .acquiring) }

    /// Returns once set; throws `CancellationError` when the task is cancelled first.
    public func wait() async throws {
        while !isSet { try await Task.sleep(for: .milliseconds(50)) }
    }
}

struct HealthBody: ResponseEncodable {
    var status: String
    var checks: [String: Bool]?
}

extension Router where Context: ServiceContext {
    /// `/healthz`, `/readyz` and `/metrics`.
    public func addOperationalRoutes(readiness: Readiness) {
        get("/healthz") { _, _ in HealthBody(status: "ok") }
        get("/readyz") { _, _ -> Response in
            let checks = await readiness.evaluate()
            let ready = checks.values.allSatisfy { $0 }
            let body = try PlatformJSON.encoder.encode(HealthBody(status: ready ? "ready" : "not ready", checks: checks))
            return Response(
                status: ready ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        get("/metrics") { _, _ in PlatformMetrics.exposition() }
    }
}
