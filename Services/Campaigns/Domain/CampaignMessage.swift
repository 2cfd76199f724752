import Foundation
import Mail
import Synchronization

/// One recipient's email of a campaign: the rendered template, the tenant's sender, the
/// one-click unsubscribe headers (RFC 8058) and a Message-ID stable for the send, so a
/// receiver can recognise the same message should it ever arrive twice.
enum CampaignMessage {
    static func make(
        campaign: Campaign, tenant: UUID, recipient: SendStore.Recipient, rendered: RenderedEmail, unsubscribeURL: String, date: Date = Date()
    ) -> EmailMessage {
        let domain = campaign.fromEmail.split(separator: "@").last.map(String.init) ?? "campaigns.invalid"
        let from = campaign.fromName.isEmpty ? campaign.fromEmail : "\(EmailMessage.encodedHeader(campaign.fromName)) <\(campaign.fromEmail)>"
        var headers = [
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ("List-Id", "\(listName(campaign.name)) <\(campaign.id.uuidString.lowercased()).\(tenant.uuidString.lowercased()).campaigns>"),
            ("X-Campaign-Id", campaign.id.uuidString.lowercased()),
        ]
        if let replyTo = campaign.replyTo { headers.append(("Reply-To", replyTo)) }
        return EmailMessage(
            from: from, to: recipient.email, subject: rendered.subject, text: rendered.text, html: rendered.html,
            messageID: "\(campaign.id.uuidString.lowercased()).\(recipient.subscriberID.uuidString.lowercased())@\(domain)", date: date,
            listUnsubscribe: unsubscribeURL, headers: headers, envelopeFrom: campaign.fromEmail)
    }

    /// A List-Id phrase: printable ASCII without the characters that would end it.
    static func listName(_ name: String) -> String {
        let kept = name.unicodeScalars.filter { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7f && !"<>\"\\".unicodeScalars.contains($0) }
        return "\"" + String(String.UnicodeScalarView(kept)).prefix(60) + "\""
    }
}

/// Messages per second for each campaign on this replica: a sender waits its turn so a
/// campaign's chunks together keep to its rate.
final class CampaignPacer: Sendable {
    private let next = Mutex<[UUID: ContinuousClock.Instant]>([:])

    /// Waits until this campaign may send its next message.
    func wait(_ campaign: UUID, ratePerSecond: Double) async throws {
        let interval = Duration.nanoseconds(Int64(1e9 / max(ratePerSecond, 0.001)))
        let slot = next.withLock { slots -> ContinuousClock.Instant in
            let now = ContinuousClock.now
            let slot = max(slots[campaign] ?? now, now)
            slots[campaign] = slot + interval
            return slot
        }
        if slot > ContinuousClock.now { try await Task.sleep(until: slot, clock: .continuous) }
    }
}
