import NIOCore

/// What a framer hands on: a head, body bytes with their framing as received, the end of
/// a message, or the reason the stream cannot be read (after which nothing follows).
enum WirePart<Head> {
    case head(Head)
    case body(ByteBuffer)
    case end
    case invalid(HeadError)
}

/// A head a framer can find at the start of a stream's bytes.
protocol WireHead {
    var message: MessageHead { get }
    /// Interim answers (1xx) are not passed on.
    var isInterim: Bool { get }
    static func parse(_ buffer: ByteBuffer, toHEAD: Bool) throws(HeadError) -> (Self, Int)?
}

extension RequestHead: WireHead {
    var isInterim: Bool { false }
    static func parse(_ buffer: ByteBuffer, toHEAD: Bool) throws(HeadError) -> (RequestHead, Int)? { try HeadParser.request(buffer) }
}

extension ResponseHead: WireHead {
    var isInterim: Bool { status < 200 }
    static func parse(_ buffer: ByteBuffer, toHEAD: Bool) throws(HeadError) -> (ResponseHead, Int)? {
        try HeadParser.response(buffer, toHEAD: toHEAD)
    }
}

/// Splits a connection's bytes into messages: heads parsed, bodies passed on as slices of
/// the bytes read (no copy), their ends found by `BodyFramer`. Only a head that arrives
/// in pieces is gathered. The connection's handler owns it and calls it directly: a
/// pipeline stage between them cost a boxed part and a traversal per part. A class, since
/// what it emits may re-enter it (an upstream connection reused for the next pipelined
/// request within the read that ended the last one is told whether that is a HEAD).
final class MessageReader<Head: WireHead> {
    private var partial: ByteBuffer?
    /// How far `partial` has been searched for the head's end: a head sent a byte at a
    /// time is scanned once in all, not once per byte (which would cost its size squared).
    private var searched = 0
    private var body: BodyFramer?
    private var failed = false
    /// The body in progress ends only when the connection does.
    private var untilClose = false
    /// Responses only: the request they answer was a HEAD, so no body follows.
    var toHEAD = false

    func read(_ bytes: ByteBuffer, _ emit: (WirePart<Head>) -> Void) {
        guard !failed else { return }
        var buffer = bytes
        if var held = partial {
            partial = nil
            held.writeBuffer(&buffer)
            buffer = held
            if !HeadParser.containsHeadEnd(buffer, from: searched) {
                guard buffer.readableBytes < HeadParser.maxHeadBytes else {
                    fail(.tooLarge, emit)
                    return
                }
                searched = max(0, buffer.readableBytes - 3)
                partial = buffer
                return
            }
        }
        while buffer.readableBytes > 0 {
            if var framer = body {
                let used: Int
                do {
                    used = try buffer.withUnsafeReadableBytes { raw throws(HeadError) in try framer.consume(raw) }
                } catch {
                    fail(error, emit)
                    return
                }
                if used > 0, let slice = buffer.readSlice(length: used) { emit(.body(slice)) }
                if framer.isDone {
                    body = nil
                    emit(.end)
                } else {
                    body = framer
                }
                continue
            }
            let parsed: (Head, Int)?
            do {
                parsed = try Head.parse(buffer, toHEAD: toHEAD)
            } catch {
                fail(error, emit)
                return
            }
            guard let (head, consumed) = parsed else {
                searched = max(0, buffer.readableBytes - 3)
                partial = buffer
                return
            }
            buffer.moveReaderIndex(forwardBy: consumed)
            if head.isInterim { continue }
            let framer = BodyFramer(head.message.framing)
            untilClose = head.message.framing == .untilClose
            emit(.head(head))
            if framer.isDone {
                emit(.end)
            } else {
                body = framer
            }
        }
    }

    /// Between messages, with nothing half-read: only then may a connection be reused.
    var isAtBoundary: Bool { partial == nil && body == nil && !failed }

    /// The connection has ended: true when that ended a body delimited by it.
    func closed() -> Bool {
        defer { body = nil }
        return body != nil && untilClose
    }

    private func fail(_ error: HeadError, _ emit: (WirePart<Head>) -> Void) {
        failed = true
        partial = nil
        body = nil
        emit(.invalid(error))
    }
}
