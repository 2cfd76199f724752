import Foundation
import Synchronization

/// A message the test SMTP server delivered to its Maildir.
public struct DeliveredMail: Sendable {
    public var raw: String
    /// Header names in lower case; folded lines joined.
    public var headers: [String: String]
    /// Decoded bodies by content type (text/plain, text/html).
    public var parts: [String: String]

    public init(_ raw: String) {
        self.raw = raw
        let normalised = raw.replacingOccurrences(of: "\r\n", with: "\n")
        headers = Self.headers(of: normalised)
        // Each part: its headers, a blank line, base64 lines up to the next boundary.
        var parts: [String: String] = [:]
        let lines = normalised.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var index = 0
        while index < lines.count {
            if lines[index].lowercased().hasPrefix("content-type: text/"), let type = lines[index].dropFirst(14).split(separator: ";").first {
                var cursor = index + 1
                while cursor < lines.count, !lines[cursor].isEmpty { cursor += 1 }
                cursor += 1
                var encoded = ""
                while cursor < lines.count, !lines[cursor].isEmpty, !lines[cursor].hasPrefix("--") {
                    encoded += lines[cursor]
                    cursor += 1
                }
                parts[String(type)] = Data(base64Encoded: encoded).map { String(decoding: $0, as: UTF8.self) } ?? ""
                index = cursor
            } else {
                index += 1
            }
        }
        self.parts = parts
    }

    /// The header section's fields of a message with `\n` line ends (or of its head only).
    static func headers(of message: String) -> [String: String] {
        let head = message.range(of: "\n\n").map { message[..<$0.lowerBound] } ?? message[...]
        var headers: [String: String] = [:]
        var last: String?
        for line in head.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.first == " " || line.first == "\t", let last {
                headers[last, default: ""] += String(line.dropFirst())
            } else if let colon = line.firstIndex(of: ":") {
                let name = line[..<colon].lowercased()
                headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                last = name
            }
        }
        return headers
    }

    /// The subject with RFC 2047 encoded words decoded.
    public var subject: String {
        let raw = headers["subject"] ?? ""
        guard raw.hasPrefix("=?UTF-8?B?") else { return raw }
        return raw.components(separatedBy: "?=").compactMap { word -> String? in
            let trimmed = word.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("=?UTF-8?B?"), let data = Data(base64Encoded: String(trimmed.dropFirst(10))) else { return nil }
            return String(decoding: data, as: UTF8.self)
        }.joined()
    }
}

public enum Mailbox {
    /// Each delivered file's To field, read once: a file in a Maildir never changes. Parsing
    /// every message on every poll of every waiting test kept the test process's cooperative
    /// threads (two on this machine) busy, and every service in it stopped answering.
    private static let recipients = Mutex<[String: String]>([:])

    /// Every message delivered to `address` so far, in the test SMTP server's Maildir or
    /// another.
    public static func messages(to address: String, in maildir: String = TestEnvironment.maildir) -> [DeliveredMail] {
        let folder = URL(fileURLWithPath: maildir)
        var found: [DeliveredMail] = []
        for sub in ["new", "cur"] {
            let directory = folder.appendingPathComponent(sub)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] {
                let file = directory.appendingPathComponent(name)
                var text: String?
                let to =
                    recipients.withLock { $0[file.path] }
                    ?? {
                        text = try? String(contentsOf: file, encoding: .utf8)
                        guard let text else { return nil }
                        let to = DeliveredMail.headers(of: text.replacingOccurrences(of: "\r\n", with: "\n"))["to"] ?? ""
                        recipients.withLock { $0[file.path] = to }
                        return to
                    }()
                guard let to, to.contains(address) else { continue }
                if let text = text ?? (try? String(contentsOf: file, encoding: .utf8)) { found.append(DeliveredMail(text)) }
            }
        }
        return found
    }

    /// Waits for the first message to `address`.
    public static func first(
        to address: String, in maildir: String = TestEnvironment.maildir, timeout: Duration = .seconds(60)
    ) async throws -> DeliveredMail? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let mail = messages(to: address, in: maildir).first { return mail }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }
}
