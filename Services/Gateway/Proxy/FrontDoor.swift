import Logging
import NIOCore
import NIOExtras
import NIOPosix
import ServiceLifecycle

/// The gateway's public listener: a SwiftNIO HTTP/1.1 server whose connections run the
/// `ProxyHandler` directly on their event loops (an async handler per request cost the
/// gateway four fifths of its throughput). The Hummingbird application with the
/// gateway's own routes listens on an internal loopback port and is reached through the
/// proxy like any upstream.
struct FrontDoor: Service {
    let host: String
    let port: Int
    /// The internal application's port, once it listens.
    let localPort: AsyncStream<Int>
    let makeServices: @Sendable (_ local: Upstream) -> ProxyServices
    let onServerRunning: @Sendable (Int) async -> Void
    let logger: Logger
    /// Client connections with no request in flight for this long are closed (by the
    /// proxy handler's own timer: NIO's IdleStateHandler wrapped every write's promise).
    static let idleTimeout = TimeAmount.seconds(75)
    /// How long a connection ending mid-request keeps reading (and dropping) the client's bytes.
    static let lingerTime = TimeAmount.seconds(2)

    func run() async throws {
        var ports = localPort.cancelOnGracefulShutdown().makeAsyncIterator()
        guard let port = await ports.next(), let local = Upstream("http://127.0.0.1:\(port)") else { return }
        let services = makeServices(local)
        let group = MultiThreadedEventLoopGroup.singleton
        let quiesce = ServerQuiescingHelper(group: group)
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    // HTTP/1.1 is read and written as bytes (see Wire/): parsing every field
                    // into strings and encoding them again cost half of the gateway's CPU.
                    try pipeline.addHandler(ProxyHandler(services: services))
                }
            }
            .bind(host: host, port: self.port)
            .get()
        logger.info("gateway listening", metadata: ["address": "\(server.localAddress.map { "\($0)" } ?? "")"])
        await onServerRunning(server.localAddress?.port ?? 0)
        try? await gracefulShutdown()
        // Stop accepting; each connection closes once its request in flight is answered.
        let closed = group.next().makePromise(of: Void.self)
        quiesce.initiateShutdown(promise: closed)
        try await closed.futureResult.get()
    }
}
