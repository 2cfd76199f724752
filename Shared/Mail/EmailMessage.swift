import Foundation

/// An email as it goes over SMTP: RFC 5322 headers, UTF-8 subject as RFC 2047 encoded
/// words, and multipart/alternative text + HTML bodies in base64 (no line-length or
/// dot-stuffing concerns for any content).
public struct EmailMessage: Sendable {
    public var from: String
    public var to: String
    public var subject: String
    public var text: String
    public var html: String?
    /// Stable per delivery, so a resend after a crash can be recognised by the receiver.
    public var messageID: String
    public var date: Date
    /// For non-transactional categories: where the recipient turns this category off.
    public var listUnsubscribe: String?
    /// Further headers (`List-Id`, `List-Unsubscribe-Post`, …), names and values as sent.
    public var headers: [(String, String)] = []
    /// The SMTP envelope sender (MAIL FROM), when it is not the mailer's configured one.
    public var envelopeFrom: String?
    /// Signs the message as it leaves (DKIM), when the sender's domain has a key.
    public var signer: DKIMSigner?

    /// The bytes that go over SMTP: rendered, then signed when there is a signer.
    public func wire() throws -> String {
        guard let signer else { return rendered }
        return try signer.sign(rendered)
    }

    public init(
        from: String, to: String, subject: String, text: String, html: String?, messageID: String, date: Date, listUnsubscribe: String? = nil,
        headers: [(String, String)] = [], envelopeFrom: String? = nil
    ) {
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.messageID = messageID
        self.date = date
        self.listUnsubscribe = listUnsubscribe
        self.headers = headers
        self.envelopeFrom = envelopeFrom
    }

    public var rendered: String {
        var lines = [
            "Date: \(Self.rfc5322Date(date))",
            "From: \(from)",
            "To: \(to)",
            "Subject: \(Self.encodedHeader(subject))",
            "Message-ID: <\(messageID)>",
            "MIME-Version: 1.0",
        ]
        if let listUnsubscribe {
            lines.append("List-Unsubscribe: <\(listUnsubscribe)>")
        }
        for (name, value) in headers { lines.append("\(name): \(value)") }
        if let html {
            let boundary = "=_part_\(messageID.prefix(36).filter { $0.isLetter || $0.isNumber })"
            lines.append("Content-Type: multipart/alternative; boundary=\"\(boundary)\"")
            lines.append("")
            lines.append("--\(boundary)")
            lines += Self.part(text, type: "text/plain")
            lines.append("--\(boundary)")
            lines += Self.part(html, type: "text/html")
            lines.append("--\(boundary)--")
        } else {
            lines += Self.part(text, type: "text/plain")
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    private static func part(_ body: String, type: String) -> [String] {
        ["Content-Type: \(type); charset=utf-8", "Content-Transfer-Encoding: base64", ""] + base64Lines(Data(body.utf8))
    }

    private static func base64Lines(_ data: Data) -> [String] {
        let encoded = data.base64EncodedString()
        var lines: [String] = []
        var index = encoded.startIndex
        while index < encoded.endIndex {
            let end = encoded.index(index, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
            lines.append(String(encoded[index..<end]))
            index = end
        }
        return lines
    }

    /// ASCII text as is; anything else as `=?UTF-8?B?…?=` words of at most 75 characters,
    /// split on character boundaries and folded onto continuation lines.
    public static func encodedHeader(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) { return text }
        var words: [String] = []
        var chunk = ""
        for character in text {
            // 45 bytes of UTF-8 encode to 60 base64 characters: 72 with the delimiters.
            if chunk.utf8.count + character.utf8.count > 45 {
                words.append(chunk)
                chunk = ""
            }
            chunk.append(character)
        }
        if !chunk.isEmpty { words.append(chunk) }
        return words.map { "=?UTF-8?B?\(Data($0.utf8).base64EncodedString())?=" }.joined(separator: "\r\n ")
    }

    /// `Tue, 01 Dec 2026 09:29:07 +0000`. Written out: a DateFormatter made for each message
    /// cost more than the rest of the message.
    public static func rfc5322Date(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday) % 7]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon) % 12]) \(1900 + parts.tm_year) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) +0000"
    }
}
