import NIOCore

/// One reply of an SMTP server (RFC 5321 §4.2): a three-digit code over one or more lines.
struct SMTPReply: Sendable, Equatable {
    let code: Int
    let lines: [String]

    var text: String { lines.joined(separator: " ") }
    var isPositive: Bool { (200..<400).contains(code) }

    /// What a reply that is not the one hoped for means for the message: 5xx is for good
    /// (a bounce), anything else may pass if tried again.
    func failure(during step: String) -> SMTPFailure {
        if (500..<600).contains(code) { return .rejected(code: code, message: "\(step): \(text)") }
        return .transient("\(step): \(code) \(text)")
    }
}

/// Cuts the server's bytes into replies: lines `ddd-text` continue one, `ddd text` ends it.
struct SMTPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = SMTPReply

    /// Longer than any sane reply line (RFC 5321 allows 512 octets): the peer is not an SMTP
    /// server, or is misbehaving.
    private static let longestLine = 4096
    private var lines: [String] = []

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let view = buffer.readableBytesView
        guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > Self.longestLine { throw SMTPFailure.transient("SMTP reply line too long") }
            return .needMoreData
        }
        guard var bytes = buffer.readBytes(length: newline - view.startIndex + 1) else { return .needMoreData }
        while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard bytes.count >= 3, let code = Int(String(decoding: bytes[0..<3], as: UTF8.self)), (200..<600).contains(code) else {
            throw SMTPFailure.transient("malformed SMTP reply: \(String(decoding: bytes.prefix(80), as: UTF8.self))")
        }
        lines.append(bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : "")
        if bytes.count > 3, bytes[3] == UInt8(ascii: "-") { return .continue }
        let reply = SMTPReply(code: code, lines: lines)
        lines = []
        context.fireChannelRead(wrapInboundOut(reply))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        .needMoreData
    }
}
