import Crypto
import Foundation
import Mail
import Persistence

struct ConfirmationArguments: Codable, Sendable {
    var subscriberId: UUID
    var listId: UUID
}

/// Double opt-in: the email that asks a new member of a list to confirm, with a signed link
/// (`/v1/campaigns/t/confirm/{token}`). Sent once per job; nothing when the member
/// confirmed or left meanwhile.
struct ConfirmationMail: Sendable {
    let database: Database
    let mailer: SMTPMailer
    let linkSecret: SymmetricKey
    let publicURL: String

    /// The proof a sender address belongs to the tenant: a link emailed to it.
    func verifySender(_ arguments: SenderArguments, tenant: UUID) async throws {
        guard let email = try await SenderStore(database: database).unverified(arguments.senderId, tenant: tenant) else { return }
        let token = SignedLink(purpose: .verifySender, tenant: tenant, campaign: arguments.senderId, subscriber: arguments.senderId)
            .token(secret: linkSecret)
        let link = publicURL.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/v1/campaigns/t/verify-sender/\(token)"
        let message = EmailMessage(
            from: mailer.configuration.from, to: email, subject: "Confirm this address for sending campaigns",
            text: "Someone asked to send email campaigns from \(email). If it was you, open this link:\n\(link)\n\nIf not, ignore this email.",
            html: "<p>Someone asked to send email campaigns from <strong>\(HTMLText.escape(email))</strong>.</p>"
                + "<p><a href=\"\(HTMLText.escape(link))\">Yes, it was me</a></p><p>If not, ignore this email.</p>",
            messageID: "sender.\(arguments.senderId.uuidString.lowercased()).\(UUID().uuidString.lowercased())@campaigns", date: Date())
        try await mailer.send(message)
    }

    func send(_ arguments: ConfirmationArguments, tenant: UUID) async throws {
        let found = try await ListStore(database: database).awaitingConfirmation(arguments.subscriberId, list: arguments.listId, tenant: tenant)
        guard let (email, name, list) = found else { return }
        // The list's id stands in the link's campaign place.
        let token = SignedLink(purpose: .confirm, tenant: tenant, campaign: arguments.listId, subscriber: arguments.subscriberId).token(
            secret: linkSecret)
        let link = publicURL.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/v1/campaigns/t/confirm/\(token)"
        let greeting = name.isEmpty ? "Hello" : "Hello \(name)"
        let escaped = HTMLText.escape
        let message = EmailMessage(
            from: mailer.configuration.from, to: email, subject: "Please confirm your subscription to \(list)",
            text:
                "\(greeting),\n\nplease confirm that you want to receive \(list) by opening this link:\n\(link)\n\nIf you did not ask for it, ignore this email.",
            html: "<p>\(escaped(greeting)),</p><p>please confirm that you want to receive <strong>\(escaped(list))</strong>:</p>"
                + "<p><a href=\"\(escaped(link))\">Confirm my subscription</a></p><p>If you did not ask for it, ignore this email.</p>",
            messageID: "confirm.\(arguments.listId.uuidString.lowercased()).\(arguments.subscriberId.uuidString.lowercased())@campaigns", date: Date()
        )
        try await mailer.send(message)
    }
}
