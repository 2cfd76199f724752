import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The client connection's side of an upstream connection: what it hears back.
protocol UpstreamListener: AnyObject {
    func upstreamRead(_ part: WirePart<ResponseHead>, from connection: UpstreamConnection)
    func upstreamReadComplete()
    func upstreamClosed(_ connection: UpstreamConnection)
    func upstreamWritabilityChanged(_ connection: UpstreamConnection)
}

/// One keep-alive HTTP/1.1 connection to an upstream. It lives on the event loop of the
/// client connection that uses it, so the bytes of a proxied request never change
/// threads; between requests it waits in that loop's `IdleConnections`.
final class UpstreamConnection: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let upstream: Upstream
    weak var listener: (any UpstreamListener)?
    /// Set while idle, so a connection the upstream closes leaves the cache.
    weak var idleIn: IdleConnections?
    /// When it last went idle.
    var idleSince = NIODeadline.now()
    private var context: ChannelHandlerContext?
    private var paused = false
    private var pendingRead = false

    /// Reads this connection's answers; told before each request whether it is a HEAD.
    private let reader = MessageReader<ResponseHead>()

    init(upstream: Upstream) {
        self.upstream = upstream
    }

    var isUsable: Bool { context?.channel.isActive ?? false }
    /// Nothing of an answer is left over (an upstream that sent more than it framed).
    var isClean: Bool { reader.isAtBoundary }
    var isWritable: Bool { context?.channel.isWritable ?? false }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reader.read(unwrapInboundIn(data)) { part in
            guard let listener else {
                // An idle connection has nothing to say; whatever it sends ends it.
                context.close(promise: nil)
                return
            }
            listener.upstreamRead(part, from: self)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        listener?.upstreamReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if reader.closed(), let listener {
            listener.upstreamRead(.end, from: self)
            listener.upstreamReadComplete()
        }
        idleIn?.remove(self)
        listener?.upstreamClosed(self)
        listener = nil
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        listener?.upstreamWritabilityChanged(self)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        if paused { pendingRead = true } else { context.read() }
    }

    /// Starts a request: its head, as bytes.
    func begin(_ head: ByteBuffer, method: HTTPMethod) {
        reader.toHEAD = method == .HEAD
        write(head)
    }

    func write(_ bytes: ByteBuffer) {
        context?.write(wrapOutboundOut(bytes), promise: nil)
    }

    func flush() { context?.flush() }

    func close() {
        listener = nil
        context?.close(promise: nil)
    }

    /// Stops reading the upstream while the client cannot take more bytes.
    func setPaused(_ paused: Bool) {
        self.paused = paused
        if !paused, pendingRead, let context {
            pendingRead = false
            context.read()
        }
    }

    /// Opens a connection to `upstream` on `loop`.
    static func connect(to upstream: Upstream, on loop: any EventLoop, tls: NIOSSLContext) -> EventLoopFuture<any Channel> {
        ClientBootstrap(group: loop)
            .connectTimeout(.seconds(2))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if upstream.tls {
                        try pipeline.addHandler(NIOSSLClientHandler(context: tls, serverHostname: upstream.host))
                    }
                    try pipeline.addHandler(UpstreamConnection(upstream: upstream))
                }
            }
            .connect(host: upstream.host, port: upstream.port)
    }
}

/// Upstream connections waiting for their next request, per upstream, on one event loop.
/// A loop talks to a handful of upstreams: a list searched by base URL is cheaper than
/// hashing one twice per request.
final class IdleConnections {
    static let maxPerUpstream = 128
    /// A connection idle for longer is closed rather than reused. A replica that shuts
    /// down closes its idle connections when its drain ends (SHUTDOWN_DRAIN_SECONDS, 5 s);
    /// a request sent on one just then would fail, and a POST cannot safely go again. The
    /// connections it answered while draining said `Connection: close` and were never
    /// pooled, so with this shorter than the drain no pooled connection meets that end.
    static let maxIdle = TimeAmount.seconds(2)
    private var idle: [(upstream: Upstream, connections: [UpstreamConnection])] = []

    private func slot(_ upstream: Upstream) -> Int {
        if let index = idle.firstIndex(where: { $0.upstream.base == upstream.base }) { return index }
        idle.append((upstream, []))
        return idle.count - 1
    }

    /// The most recently used connection still open (the likeliest to be alive upstream);
    /// the ones below it have waited longer, so past `maxIdle` they all go.
    func take(_ upstream: Upstream) -> UpstreamConnection? {
        let index = slot(upstream)
        let oldest = NIODeadline.now() - Self.maxIdle
        while let connection = idle[index].connections.popLast() {
            connection.idleIn = nil
            if connection.idleSince < oldest {
                for stale in idle[index].connections {
                    stale.idleIn = nil
                    stale.close()
                }
                idle[index].connections.removeAll()
                connection.close()
                return nil
            }
            if connection.isUsable, connection.isClean { return connection }
            connection.close()
        }
        return nil
    }

    func put(_ connection: UpstreamConnection) {
        connection.listener = nil
        let index = slot(connection.upstream)
        guard connection.isUsable, connection.isClean, idle[index].connections.count < Self.maxPerUpstream else {
            connection.close()
            return
        }
        connection.setPaused(false)
        connection.idleIn = self
        connection.idleSince = .now()
        idle[index].connections.append(connection)
    }

    func remove(_ connection: UpstreamConnection) {
        let index = slot(connection.upstream)
        idle[index].connections.removeAll { $0 === connection }
        connection.idleIn = nil
    }
}

/// One `IdleConnections` per event loop of the group, made before any connection arrives.
final class IdleConnectionsByLoop: Sendable {
    private let boxes: [ObjectIdentifier: NIOLoopBoundBox<IdleConnections>]

    init(group: MultiThreadedEventLoopGroup) {
        var boxes: [ObjectIdentifier: NIOLoopBoundBox<IdleConnections>] = [:]
        for loop in group.makeIterator() {
            boxes[ObjectIdentifier(loop)] = NIOLoopBoundBox.makeBoxSendingValue(IdleConnections(), as: IdleConnections.self, eventLoop: loop)
        }
        self.boxes = boxes
    }

    /// The cache of the loop the caller runs on; nil for a loop outside the group.
    func current(_ loop: any EventLoop) -> IdleConnections? {
        boxes[ObjectIdentifier(loop)]?.value
    }
}
