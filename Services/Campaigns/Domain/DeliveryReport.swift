import Foundation

/// What a bounce or complaint message says, read from its text: RFC 3464 delivery status
/// notifications (`Final-Recipient`, `Action`, `Status`) and RFC 5965 feedback reports
/// (`Feedback-Type: abuse`), with the Message-ID of the campaign email they concern when the
/// report returns its headers.
struct DeliveryReport: Equatable, Sendable {
    enum Kind: String, Codable, Sendable {
        /// A permanent failure (5.x.x): the address is suppressed.
        case hard
        /// A temporary one (4.x.x, or delayed): noted, nothing suppressed.
        case soft
        /// The recipient reported the email as abuse: suppressed.
        case complaint
    }

    var kind: Kind
    var recipient: String?
    var status: String?
    /// The campaign and subscriber of the email, from its Message-ID.
    var campaign: UUID?
    var subscriber: UUID?

    static let maxBytes = 1 << 20

    /// Every recipient a report names (a DSN may hold several); empty when it is neither a
    /// DSN nor a feedback report.
    static func read(_ text: String) -> [DeliveryReport] {
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n")
        func value(_ line: String, _ field: String) -> String? {
            guard line.lowercased().hasPrefix(field.lowercased() + ":") else { return nil }
            return String(line.dropFirst(field.count + 1)).trimmingCharacters(in: .whitespaces)
        }
        var original: (UUID, UUID)?
        for line in lines {
            guard let id = value(line, "Message-ID"), let parsed = campaignMessageID(id) else { continue }
            original = parsed
        }
        if lines.contains(where: { value($0, "Feedback-Type")?.lowercased() == "abuse" }) {
            let recipient = lines.compactMap { value($0, "Original-Rcpt-To") ?? value($0, "Removal-Recipient") }.first.map(address)
            return [DeliveryReport(kind: .complaint, recipient: recipient, status: nil, campaign: original?.0, subscriber: original?.1)]
        }
        // Per-recipient groups: each starts at its Final-Recipient.
        var reports: [DeliveryReport] = []
        var current: (recipient: String, action: String?, status: String?)?
        func close() {
            guard let group = current else { return }
            let action = group.action?.lowercased() ?? ""
            let status = group.status ?? ""
            let kind: Kind? =
                if action == "failed" && !status.hasPrefix("4") { .hard } else if action == "failed" || action == "delayed" || status.hasPrefix("4") {
                    .soft
                } else { nil }
            if let kind {
                reports.append(
                    DeliveryReport(kind: kind, recipient: group.recipient, status: group.status, campaign: original?.0, subscriber: original?.1))
            }
            current = nil
        }
        for line in lines {
            if let recipient = value(line, "Final-Recipient") {
                close()
                current = (address(recipient), nil, nil)
            } else if let action = value(line, "Action"), current != nil {
                current?.action = action
            } else if let status = value(line, "Status"), current != nil {
                current?.status = status.split(separator: " ").first.map(String.init)
            }
        }
        close()
        return reports
    }

    /// `rfc822; Name@Example.com` → `name@example.com`.
    static func address(_ field: String) -> String {
        let raw = field.split(separator: ";", maxSplits: 1).last.map(String.init) ?? field
        return raw.trimmingCharacters(in: CharacterSet(charactersIn: " <>\t")).lowercased()
    }

    /// `<campaign-id.subscriber-id@domain>`, as CampaignMessage writes it.
    static func campaignMessageID(_ field: String) -> (UUID, UUID)? {
        let inner = field.trimmingCharacters(in: CharacterSet(charactersIn: " <>\t"))
        guard let local = inner.split(separator: "@").first else { return nil }
        let ids = local.split(separator: ".")
        guard ids.count == 2, let campaign = UUID(uuidString: String(ids[0])), let subscriber = UUID(uuidString: String(ids[1])) else { return nil }
        return (campaign, subscriber)
    }
}
