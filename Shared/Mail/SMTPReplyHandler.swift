import NIOCore

/// Commands written together, and a promise for each reply they call for, in order. A batch
/// of several is pipelining (RFC 2920); a batch with no bytes waits for the greeting.
struct SMTPExchange: Sendable {
    let bytes: ByteBuffer
    let replies: [EventLoopPromise<SMTPReply>]
}

/// Pairs replies with the commands that asked for them: replies come back in the order the
/// commands went out, so a queue of promises is all the bookkeeping pipelining needs.
final class SMTPReplyHandler: ChannelDuplexHandler {
    typealias InboundIn = SMTPReply
    typealias OutboundIn = SMTPExchange
    typealias OutboundOut = ByteBuffer

    private var waiting = CircularBuffer<EventLoopPromise<SMTPReply>>()
    /// A reply before anyone asked: the greeting, or a 421 from a server closing an idle
    /// connection. The next command's waiter gets it, and sees that something is wrong.
    private var early = CircularBuffer<SMTPReply>()
    private var closed: SMTPFailure?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        if let closed {
            exchange.replies.forEach { $0.fail(closed) }
            promise?.fail(closed)
            return
        }
        for reply in exchange.replies {
            if let ready = early.popFirst() { reply.succeed(ready) } else { waiting.append(reply) }
        }
        context.write(wrapOutboundOut(exchange.bytes), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = unwrapInboundIn(data)
        if let waiter = waiting.popFirst() { waiter.succeed(reply) } else { early.append(reply) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(with: error as? SMTPFailure ?? .transient("SMTP connection failed: \(error)"))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(with: .transient("the SMTP server closed the connection"))
        context.fireChannelInactive()
    }

    private func fail(with failure: SMTPFailure) {
        if closed == nil { closed = failure }
        while let waiter = waiting.popFirst() { waiter.fail(closed ?? failure) }
    }
}
