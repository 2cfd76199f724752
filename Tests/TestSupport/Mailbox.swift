import Foundation

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
        let sections = normalised.components(separatedBy: "\n\n")
        var headers: [String: String] = [:]
        var last: String?
        for line in (sections.first ?? "").split(separator: "\n", omittingEmptySubsequences: false) {
            if line.first == " " || line.first == "\t", let last {
                headers[last, default: ""] += String(line.dropFirst())
            } else if let colon = line.firstIndex(of: ":") {
                let name = line[..<colon].lowercased()
                headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                last = name
            }
        }
        self.headers = headers
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
    /// Every message delivered to `address` so far, in the test SMTP server's Maildir or
    /// another.
    public static func messages(to address: String, in maildir: String = TestEnvironment.maildir) -> [DeliveredMail] {
        let folder = URL(fileURLWithPath: maildir)
        var found: [DeliveredMail] = []
        for sub in ["new", "cur"] {
            let directory = folder.appendingPathComponent(sub)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] {
                guard let text = try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8) else { continue }
                let mail = DeliveredMail(text)
                if mail.headers["to"]?.contains(address) == true { found.append(mail) }
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
