import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// The session broke before any of the message's content went out: sending it again on
/// another session cannot deliver it twice.
struct SMTPSessionLost: Error {
    let failure: SMTPFailure
}

/// One session with an SMTP server, past the greeting, EHLO, STARTTLS and AUTH, ready for
/// messages. Several messages go over it one after the other.
final class SMTPConnection: Sendable {
    private let channel: any Channel
    private let timeout: TimeAmount
    /// The server said PIPELINING: a message's envelope and DATA go out in one write.
    let pipelining: Bool
    private let broken = Atomic<Bool>(false)

    /// Still usable for the next message: open, and no command left without its reply.
    var isReusable: Bool { channel.isActive && !broken.load(ordering: .relaxed) }

    private init(channel: any Channel, timeout: TimeAmount, pipelining: Bool) {
        self.channel = channel
        self.timeout = timeout
        self.pipelining = pipelining
    }

    /// Connects and goes through the session's opening: greeting, EHLO, then STARTTLS and
    /// EHLO again when offered (or required), then AUTH when a user is configured.
    static func open(to server: SMTPServer, tls: NIOSSLContext, configuration: SMTPConfiguration) async throws -> SMTPConnection {
        let timeout = TimeAmount.seconds(Int64(configuration.timeoutSeconds))
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(10))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if server.implicitTLS {
                            try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: server.tlsName))
                        }
                        try channel.pipeline.syncOperations.addHandlers(ByteToMessageHandler(SMTPReplyDecoder()), SMTPReplyHandler())
                    }
                }
                .connect(host: server.host, port: server.port).get()
        } catch {
            throw SMTPFailure.transient("cannot connect to \(server.host):\(server.port): \(error)")
        }
        var connection = SMTPConnection(channel: channel, timeout: timeout, pipelining: false)
        do {
            try await connection.expect(220, from: "", step: "greeting")
            var extensions = try await connection.hello(configuration)
            var secure = server.implicitTLS
            if !secure, extensions.keys.contains("STARTTLS") {
                try await connection.expect(220, from: "STARTTLS\r\n", step: "STARTTLS")
                try await channel.eventLoop.submit {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOSSLClientHandler(context: tls, serverHostname: server.tlsName), position: .first)
                }.get()
                extensions = try await connection.hello(configuration)
                secure = true
            }
            if !secure, configuration.requireTLS {
                throw SMTPFailure.transient("\(server.host) offers no STARTTLS and TLS is required")
            }
            if let username = configuration.username {
                try await connection.authenticate(username, configuration.password ?? "", mechanisms: extensions["AUTH"] ?? [])
            }
            connection = SMTPConnection(channel: channel, timeout: timeout, pipelining: extensions.keys.contains("PIPELINING"))
            return connection
        } catch {
            connection.close()
            // Whatever went wrong here (a refusal, a silence past the timeout, a TLS handshake
            // that failed), it was not this message or its recipient: a transient failure.
            switch error {
            case SMTPFailure.rejected(let code, let message): throw SMTPFailure.transient("\(code) \(message)")
            case let failure as SMTPFailure: throw failure
            case let lost as SMTPSessionLost: throw lost.failure
            default: throw SMTPFailure.transient("\(server.host): the session could not be opened: \(error)")
            }
        }
    }

    /// EHLO, and the extensions the server names, each with its parameters.
    private func hello(_ configuration: SMTPConfiguration) async throws -> [String: [String]] {
        let domain = SMTPMailer.address(configuration.from).split(separator: "@").last.map(String.init) ?? "localhost"
        let reply = try await exchange("EHLO \(domain)\r\n")
        guard reply.code == 250 else { throw reply.failure(during: "EHLO") }
        var extensions: [String: [String]] = [:]
        for line in reply.lines.dropFirst() {
            let words = line.split(separator: " ").map { $0.uppercased() }
            if let keyword = words.first { extensions[keyword] = Array(words.dropFirst()) }
        }
        return extensions
    }

    private func authenticate(_ username: String, _ password: String, mechanisms: [String]) async throws {
        if mechanisms.contains("PLAIN") {
            let credentials = Data("\u{0}\(username)\u{0}\(password)".utf8).base64EncodedString()
            try await expect(235, from: "AUTH PLAIN \(credentials)\r\n", step: "AUTH")
        } else if mechanisms.contains("LOGIN") {
            try await expect(334, from: "AUTH LOGIN\r\n", step: "AUTH")
            try await expect(334, from: "\(Data(username.utf8).base64EncodedString())\r\n", step: "AUTH")
            try await expect(235, from: "\(Data(password.utf8).base64EncodedString())\r\n", step: "AUTH")
        } else {
            throw SMTPFailure.transient("the SMTP server offers neither AUTH PLAIN nor AUTH LOGIN")
        }
    }

    /// One message: MAIL, RCPT and DATA (in one write when the server pipelines), then the
    /// content. A refusal leaves the session usable for the next message.
    func deliver(_ content: ByteBuffer, from sender: String, to recipient: String) async throws {
        let envelope = ["MAIL FROM:<\(sender)>\r\n", "RCPT TO:<\(recipient)>\r\n", "DATA\r\n"]
        var replies: [SMTPReply] = []
        do {
            if pipelining {
                replies = try await exchange(ByteBuffer(string: envelope.joined()), replies: 3)
            } else {
                for command in envelope {
                    let reply = try await exchange(command)
                    replies.append(reply)
                    if !reply.isPositive { break }
                }
            }
        } catch {
            throw SMTPSessionLost(failure: error as? SMTPFailure ?? .transient("\(error)"))
        }
        if let closing = replies.first(where: { $0.code == 421 }) {
            broken.store(true, ordering: .relaxed)
            throw SMTPSessionLost(failure: closing.failure(during: "MAIL FROM"))
        }
        let steps = ["MAIL FROM", "RCPT TO", "DATA"]
        let refusal = zip(steps, replies).first { !$0.1.isPositive }.map { $1.failure(during: $0) }
        let dataAccepted = replies.count == 3 && replies[2].code == 354
        if let refusal {
            // RFC 2920 §3.1: a DATA the server took after refusing the envelope is ended
            // empty; either way the transaction is reset for the next message.
            _ = try await exchange(dataAccepted ? ".\r\n" : "RSET\r\n")
            throw refusal
        }
        guard dataAccepted else { throw SMTPFailure.transient("DATA: unexpected reply \(replies.last?.code ?? 0)") }
        let reply = try await exchange(content)
        guard reply.code == 250 else { throw reply.failure(during: "end of data") }
    }

    /// Says goodbye without waiting for the answer, and closes.
    func close() {
        let channel = channel
        guard channel.isActive else { return }
        channel.writeAndFlush(SMTPExchange(bytes: ByteBuffer(string: "QUIT\r\n"), replies: [])).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    private func expect(_ code: Int, from command: String, step: String) async throws {
        let reply = try await exchange(command)
        guard reply.code == code else { throw reply.failure(during: step) }
    }

    private func exchange(_ command: String) async throws -> SMTPReply {
        try await exchange(ByteBuffer(string: command))
    }

    private func exchange(_ bytes: ByteBuffer) async throws -> SMTPReply {
        try await exchange(bytes, replies: 1)[0]
    }

    /// Writes `bytes` and waits for `count` replies. A server silent for the timeout fails
    /// the wait and loses its connection.
    private func exchange(_ bytes: ByteBuffer, replies count: Int) async throws -> [SMTPReply] {
        let channel = channel
        let promises = (0..<count).map { _ in channel.eventLoop.makePromise(of: SMTPReply.self) }
        let silence = SMTPFailure.transient("no SMTP reply within \(timeout.nanoseconds / 1_000_000_000) s")
        // Both closures run on the channel's loop. On a loop held up past the timeout the
        // deadline may run first and close the channel before the write: the send then failed
        // for the silence, not for a connection closed by something else.
        let timedOut = NIOLoopBoundBox.makeBoxSendingValue(false, eventLoop: channel.eventLoop)
        let deadline = channel.eventLoop.scheduleTask(in: timeout) {
            timedOut.value = true
            channel.pipeline.fireErrorCaught(silence)
        }
        do {
            // On the channel's loop, where it cannot close between the look and the write: a
            // write to a closed channel never reaches the handler that answers the promises.
            channel.eventLoop.execute {
                guard channel.isActive else {
                    return promises.forEach { $0.fail(timedOut.value ? silence : SMTPFailure.transient("the SMTP connection is closed")) }
                }
                channel.writeAndFlush(SMTPExchange(bytes: bytes, replies: promises), promise: nil)
            }
            let replies = EventLoopFuture.whenAllSucceed(promises.map(\.futureResult), on: channel.eventLoop)
            // Cancelled on the loop as the last reply lands, not when this task resumes: a
            // deadline falling due in between would close a session that had answered in time,
            // and the next command would find it closed.
            replies.whenComplete { _ in deadline.cancel() }
            return try await replies.get()
        } catch {
            broken.store(true, ordering: .relaxed)
            throw error
        }
    }
}
