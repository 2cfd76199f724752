import Foundation
import Jobs
import NIOCore
import NIOSSL
import Synchronization

/// Where mail goes: `smtp://host:port` (STARTTLS when offered, or required) or
/// `smtps://host:port` (TLS from the start), with AUTH when a user is set.
public struct SMTPConfiguration: Sendable {
    public var url: String
    public var username: String?
    public var password: String?
    /// Refuse to send without STARTTLS (production); off for a local test server.
    public var requireTLS: Bool
    public var from: String
    /// Seconds a reply may take before the connection is given up.
    public var timeoutSeconds = 30
    /// A PEM file of the authorities the server's certificate may chain to, instead of the
    /// system's: a relay with a private CA, or the local test server.
    public var trustRootsFile: String?
    /// Sessions open to the server at once; more sends wait for one.
    public var maxSessions = 16

    public init(
        url: String, username: String? = nil, password: String? = nil, requireTLS: Bool, from: String, timeoutSeconds: Int = 30,
        trustRootsFile: String? = nil, maxSessions: Int = 16
    ) {
        self.maxSessions = maxSessions
        self.url = url
        self.trustRootsFile = trustRootsFile
        self.username = username
        self.password = password
        self.requireTLS = requireTLS
        self.from = from
        self.timeoutSeconds = timeoutSeconds
    }
}

public enum SMTPFailure: Error, Equatable, JobReportable {
    /// The server refused the message or recipient for good (5xx): a bounce.
    case rejected(code: Int, message: String)
    /// Worth trying again: connection, TLS, 4xx.
    case transient(String)

    public var description: String {
        switch self {
        case .rejected(let code, let message): "rejected (\(code)): \(message)"
        case .transient(let message): message
        }
    }
}

/// Sends mail over SMTP (RFC 5321) with SwiftNIO: STARTTLS or implicit TLS, AUTH PLAIN or
/// LOGIN, pipelining (RFC 2920) when the server offers it, and sessions kept open between
/// messages. Notifications and campaigns both send through it.
public struct SMTPMailer: Sendable {
    public let configuration: SMTPConfiguration
    private let sessions: SMTPSessions

    public init(configuration: SMTPConfiguration) {
        self.configuration = configuration
        sessions = SMTPSessions(configuration: configuration)
    }

    /// Sends from the message's own envelope sender when it names one, else the
    /// configured one.
    public func send(_ message: EmailMessage) async throws {
        let recipient = Self.address(message.to)
        let sender = Self.address(message.envelopeFrom ?? configuration.from)
        for address in [recipient, sender] where !Self.isEnvelopeSafe(address) {
            throw SMTPFailure.rejected(code: 553, message: "not a usable address: \(address)")
        }
        let content = Self.dataContent(try message.wire())
        let (session, reused) = try await sessions.take()
        do {
            defer { sessions.putBack(session) }
            try await session.deliver(content, from: sender, to: recipient)
        } catch is SMTPSessionLost where reused {
            // Most likely a kept session the server has meanwhile closed. None of the
            // message went out, so once more on a new session.
            let (fresh, _) = try await sessions.take(fresh: true)
            defer { sessions.putBack(fresh) }
            do { try await fresh.deliver(content, from: sender, to: recipient) } catch let lost as SMTPSessionLost { throw lost.failure }
        } catch let lost as SMTPSessionLost {
            throw lost.failure
        }
    }

    /// The bare address of `Name <address>`.
    public static func address(_ mailbox: String) -> String {
        if let open = mailbox.lastIndex(of: "<"), let close = mailbox.lastIndex(of: ">"), open < close {
            return String(mailbox[mailbox.index(after: open)..<close])
        }
        return mailbox
    }

    /// An address that cannot smuggle a command into the envelope.
    static func isEnvelopeSafe(_ address: String) -> Bool {
        !address.isEmpty && !address.unicodeScalars.contains { $0.value < 0x21 || $0 == "<" || $0 == ">" || $0.value == 0x7F }
    }

    /// The message as DATA carries it: lines that start with a dot get another (RFC 5321
    /// §4.5.2), ending in CRLF and the lone dot.
    static func dataContent(_ wire: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(wire.utf8.count + 64)
        var lineStart = true
        var previous: UInt8 = 0
        for byte in wire.utf8 {
            if lineStart, byte == UInt8(ascii: ".") { buffer.writeInteger(UInt8(ascii: ".")) }
            buffer.writeInteger(byte)
            lineStart = byte == UInt8(ascii: "\n")
            previous = byte
        }
        if previous != UInt8(ascii: "\n") { buffer.writeString("\r\n") }
        buffer.writeString(".\r\n")
        return buffer
    }
}

/// Open sessions between messages, so the next message skips connecting, the greeting,
/// EHLO, STARTTLS and AUTH. A session idle longer than servers usually wait is closed
/// rather than reused.
final class SMTPSessions: Sendable {
    private struct Idle {
        let session: SMTPConnection
        let since: ContinuousClock.Instant
    }

    private static let idleLimit = Duration.seconds(30)
    private static let keptAtMost = 64

    private let configuration: SMTPConfiguration
    private let idle = Mutex<[Idle]>([])
    private let slots: SessionSlots
    /// Built once: loading trust roots is far dearer than a handshake.
    private let tls: Result<NIOSSLContext, SMTPFailure>

    init(configuration: SMTPConfiguration) {
        self.configuration = configuration
        slots = SessionSlots(configuration.maxSessions)
        tls = Result {
            var tls = TLSConfiguration.makeClientConfiguration()
            if let file = configuration.trustRootsFile { tls.trustRoots = .file(file) }
            return try NIOSSLContext(configuration: tls)
        }.mapError { .transient("TLS setup failed: \($0)") }
    }

    deinit {
        for kept in idle.withLock({ $0 }) { kept.session.close() }
    }

    /// A kept session when there is one (`reused`), else a new one; `putBack` returns it.
    func take(fresh: Bool = false) async throws -> (SMTPConnection, reused: Bool) {
        await slots.acquire()
        do {
            return try await open(fresh: fresh)
        } catch {
            slots.release()
            throw error
        }
    }

    private func open(fresh: Bool) async throws -> (SMTPConnection, reused: Bool) {
        let now = ContinuousClock.now
        let (kept, stale) = idle.withLock { idle -> (SMTPConnection?, [SMTPConnection]) in
            let stale = idle.filter { now - $0.since > Self.idleLimit }.map(\.session)
            idle.removeAll { now - $0.since > Self.idleLimit }
            return (fresh ? nil : idle.popLast()?.session, stale)
        }
        stale.forEach { $0.close() }
        if let kept, kept.isReusable { return (kept, true) }
        kept?.close()
        let server = try SMTPServer(url: configuration.url)
        return (try await SMTPConnection.open(to: server, tls: try tls.get(), configuration: configuration), false)
    }

    func putBack(_ session: SMTPConnection) {
        defer { slots.release() }
        guard session.isReusable else { return session.close() }
        let kept = idle.withLock { idle -> Bool in
            guard idle.count < Self.keptAtMost else { return false }
            idle.append(Idle(session: session, since: .now))
            return true
        }
        if !kept { session.close() }
    }
}
