import CCurl
import Foundation
import Jobs
import NIOPosix
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
    public var timeoutSeconds = 30

    public init(url: String, username: String? = nil, password: String? = nil, requireTLS: Bool, from: String, timeoutSeconds: Int = 30) {
        self.url = url
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

/// Sends mail with libcurl's SMTP client (a maintained implementation of the protocol,
/// STARTTLS and AUTH included), on a blocking-I/O thread pool of its own. Notifications and
/// campaigns both send through it.
public struct SMTPMailer: Sendable {
    public let configuration: SMTPConfiguration

    public init(configuration: SMTPConfiguration) {
        self.configuration = configuration
    }

    private static let initialised: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    /// A transfer blocks its thread while it waits on the server: threads of their own, so
    /// sends run side by side (NIO's shared pool has one thread per core).
    private static let transfers: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 16)
        pool.start()
        return pool
    }()

    /// Sends from the message's own envelope sender when it names one, else the
    /// configured one.
    public func send(_ message: EmailMessage) async throws {
        let configuration = configuration
        let payload = Array(try message.wire().utf8)
        let recipient = Self.address(message.to)
        let sender = Self.address(message.envelopeFrom ?? configuration.from)
        try await Self.transfers.runIfActive {
            try Self.transfer(payload, from: sender, to: recipient, configuration: configuration)
        }
    }

    /// The bare address of `Name <address>`.
    public static func address(_ mailbox: String) -> String {
        if let open = mailbox.lastIndex(of: "<"), let close = mailbox.lastIndex(of: ">"), open < close {
            return String(mailbox[mailbox.index(after: open)..<close])
        }
        return mailbox
    }

    private final class Upload {
        let bytes: [UInt8]
        var offset = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
    }

    /// Easy handles between sends. A handle keeps its connection to the server, so the
    /// next message on it skips connecting, the greeting, EHLO, STARTTLS and AUTH.
    private final class IdleHandles: Sendable {
        private struct Handle: @unchecked Sendable {
            let curl: UnsafeMutableRawPointer
        }

        private let idle = Mutex<[Handle]>([])

        func take() -> UnsafeMutableRawPointer? {
            if let handle = idle.withLock({ $0.popLast() }) {
                curl_easy_reset(handle.curl)
                return handle.curl
            }
            return curl_easy_init()
        }

        /// A handle whose send failed is closed with its connection, not kept.
        func put(_ curl: UnsafeMutableRawPointer, healthy: Bool) {
            guard healthy else { return curl_easy_cleanup(curl) }
            idle.withLock { $0.append(Handle(curl: curl)) }
        }
    }

    private static let handles = IdleHandles()

    private static func transfer(_ payload: [UInt8], from sender: String, to recipient: String, configuration: SMTPConfiguration) throws {
        guard initialised, let curl = handles.take() else { throw SMTPFailure.transient("libcurl could not be initialised") }
        var healthy = false
        defer { handles.put(curl, healthy: healthy) }
        let upload = Upload(payload)
        let recipients = curl_slist_append(nil, "<\(recipient)>")
        defer { curl_slist_free_all(recipients) }
        _ = platform_curl_set_string(curl, CURLOPT_URL, configuration.url)
        _ = platform_curl_set_string(curl, CURLOPT_MAIL_FROM, "<\(sender)>")
        _ = platform_curl_set_list(curl, CURLOPT_MAIL_RCPT, recipients)
        _ = platform_curl_set_long(curl, CURLOPT_USE_SSL, Int(configuration.requireTLS ? CURLUSESSL_ALL.rawValue : CURLUSESSL_TRY.rawValue))
        if let username = configuration.username {
            _ = platform_curl_set_string(curl, CURLOPT_USERNAME, username)
            _ = platform_curl_set_string(curl, CURLOPT_PASSWORD, configuration.password ?? "")
        }
        _ = platform_curl_set_long(curl, CURLOPT_UPLOAD, 1)
        _ = platform_curl_set_long(curl, CURLOPT_TIMEOUT, configuration.timeoutSeconds)
        _ = platform_curl_set_long(curl, CURLOPT_CONNECTTIMEOUT, 10)
        _ = platform_curl_set_long(curl, CURLOPT_NOSIGNAL, 1)
        _ = platform_curl_set_read_function(curl) { buffer, size, count, userdata in
            guard let buffer, let userdata else { return 0 }
            let upload = Unmanaged<Upload>.fromOpaque(userdata).takeUnretainedValue()
            let length = min(size * count, upload.bytes.count - upload.offset)
            guard length > 0 else { return 0 }
            upload.bytes.withUnsafeBufferPointer { source in
                guard let base = source.baseAddress else { return }
                UnsafeMutableRawPointer(buffer).copyMemory(from: base + upload.offset, byteCount: length)
            }
            upload.offset += length
            return length
        }
        let result = withExtendedLifetime(upload) { () -> CURLcode in
            _ = platform_curl_set_pointer(curl, CURLOPT_READDATA, Unmanaged.passUnretained(upload).toOpaque())
            return curl_easy_perform(curl)
        }
        guard result != CURLE_OK else {
            healthy = true
            return
        }
        var code = 0
        _ = platform_curl_response_code(curl, &code)
        let message = String(cString: curl_easy_strerror(result))
        if (500..<600).contains(code) { throw SMTPFailure.rejected(code: code, message: message) }
        throw SMTPFailure.transient(code > 0 ? "\(message) (\(code))" : message)
    }
}
