import NIOCore
import NIOPosix

// The fastest proxy SwiftNIO allows, for bench/gateway.sh: each client connection gets one
// upstream connection on the same event loop and bytes are copied both ways, with no HTTP
// work at all. Its requests/s are the ceiling of any gateway built on SwiftNIO here.
//   relay-ceiling <listen port> <upstream port>

/// Copies what one side reads to the other side.
final class Relay: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var peer: (any Channel)?
    private var pending: [ByteBuffer] = []

    init(peer: (any Channel)? = nil) {
        self.peer = peer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        if let peer { peer.write(bytes, promise: nil) } else { pending.append(bytes) }
    }

    func channelReadComplete(context: ChannelHandlerContext) { peer?.flush() }
    func channelInactive(context: ChannelHandlerContext) { peer?.close(promise: nil) }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }

    func attach(_ peer: any Channel) {
        self.peer = peer
        for bytes in pending { peer.write(bytes, promise: nil) }
        pending = []
        peer.flush()
    }
}

let arguments = CommandLine.arguments
guard arguments.count == 3, let listenPort = Int(arguments[1]), let upstreamPort = Int(arguments[2]) else {
    print("usage: relay-ceiling <listen port> <upstream port>")
    exit(2)
}
let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
    .serverChannelOption(.backlog, value: 1024)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { client in
        client.eventLoop.makeCompletedFuture {
            let toUpstream = Relay()
            try client.pipeline.syncOperations.addHandler(toUpstream)
            let relay = NIOLoopBound(toUpstream, eventLoop: client.eventLoop)
            ClientBootstrap(group: client.eventLoop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { upstream in
                    upstream.eventLoop.makeCompletedFuture { try upstream.pipeline.syncOperations.addHandler(Relay(peer: client)) }
                }
                .connect(host: "127.0.0.1", port: upstreamPort)
                .whenComplete { result in
                    switch result {
                    case .success(let upstream): relay.value.attach(upstream)
                    case .failure: client.close(promise: nil)
                    }
                }
        }
    }
    .bind(host: "127.0.0.1", port: listenPort)
    .get()
try await server.closeFuture.get()
