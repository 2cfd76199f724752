import Foundation
import NIOCore
import TestSupport
import Testing

@testable import Mail

/// The SMTP client against real servers: the local relay (STARTTLS and AUTH required,
/// PIPELINING offered; infra/dev/smtp_relay.py) and the plain test server.
@Suite("SMTP client")
struct SMTPMailerTests {
    let relayMail = TestEnvironment.smtpRelayFolder + "/mail"

    func relay(password: String = "relay-dev", trusted: Bool = true, timeoutSeconds: Int = 10, sessions: Int = 16) -> SMTPMailer {
        SMTPMailer(
            configuration: SMTPConfiguration(
                url: TestEnvironment.smtpRelayURL, username: "relay", password: password, requireTLS: true, from: "Sender <sender@relay.test>",
                timeoutSeconds: timeoutSeconds, trustRootsFile: trusted ? TestEnvironment.smtpRelayFolder + "/server.crt" : nil,
                maxSessions: sessions))
    }

    func message(to address: String) -> EmailMessage {
        EmailMessage(
            from: "Sender <sender@relay.test>", to: address, subject: "Hello", text: "Body for \(address)", html: nil,
            messageID: "\(UUID().uuidString)@relay.test", date: Date())
    }

    func unique(_ name: String = "someone") -> String { "\(name)-\(UUID().uuidString.prefix(8).lowercased())@relay.test" }

    func arrived(_ address: String) async throws -> DeliveredMail {
        try #require(try await Mailbox.first(to: address, in: relayMail, timeout: .seconds(10)))
    }

    func failure(of send: () async throws -> Void) async -> SMTPFailure? {
        do {
            try await send()
            return nil
        } catch {
            return error as? SMTPFailure
        }
    }

    @Test("through a relay that requires STARTTLS and AUTH, a message arrives over TLS, as the configured user, pipelined")
    func relayDelivery() async throws {
        let address = unique()
        try await relay().send(message(to: address))
        let mail = try await arrived(address)
        #expect(mail.headers["x-relay-tls"] == "yes")
        #expect(mail.headers["x-relay-user"] == "relay")
        #expect(mail.headers["x-relay-pipelined"] == "yes")
        #expect(mail.parts["text/plain"]?.contains("Body for \(address)") == true)
    }

    @Test("messages one after another share one session")
    func sessionReuse() async throws {
        let mailer = relay()
        let addresses = [unique(), unique(), unique()]
        for address in addresses { try await mailer.send(message(to: address)) }
        var sessions: Set<String> = []
        for address in addresses { sessions.insert(try await arrived(address).headers["x-relay-session"] ?? "") }
        #expect(sessions.count == 1)
    }

    @Test("twenty sends at once open no more sessions than the limit, and all arrive")
    func sessionLimit() async throws {
        let mailer = relay(sessions: 3)
        let addresses = (0..<20).map { _ in unique() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for address in addresses { group.addTask { try await mailer.send(message(to: address)) } }
            try await group.waitForAll()
        }
        var sessions: Set<String> = []
        for address in addresses { sessions.insert(try await arrived(address).headers["x-relay-session"] ?? "") }
        #expect((1...3).contains(sessions.count))
    }

    @Test("an unknown recipient is a rejection with the server's code, and the session carries on")
    func refusedRecipient() async throws {
        let mailer = relay()
        let before = unique()
        try await mailer.send(message(to: before))
        let refused = await failure { try await mailer.send(message(to: "nobody@relay.test")) }
        guard case .rejected(let code, _) = refused else {
            Issue.record("expected a rejection, got \(String(describing: refused))")
            return
        }
        #expect(code == 550)
        let after = unique()
        try await mailer.send(message(to: after))
        #expect(try await arrived(before).headers["x-relay-session"] == (try await arrived(after).headers["x-relay-session"]))
    }

    @Test("a full mailbox (4xx) is transient, worth another try")
    func deferredRecipient() async {
        let deferred = await failure { try await relay().send(message(to: "full@relay.test")) }
        guard case .transient(let reason) = deferred else {
            Issue.record("expected a transient failure, got \(String(describing: deferred))")
            return
        }
        #expect(reason.contains("452"))
    }

    @Test("a kept session the relay has closed is replaced, and the message still goes")
    func closedSession() async throws {
        let mailer = relay()
        let first = unique("hangup")
        try await mailer.send(message(to: first))
        let second = unique()
        try await mailer.send(message(to: second))
        let sessions = [try await arrived(first), try await arrived(second)].map { $0.headers["x-relay-session"] }
        #expect(sessions[0] != sessions[1])
    }

    @Test("a wrong password is a transient failure, never a bounce")
    func wrongPassword() async {
        let refused = await failure { try await relay(password: "wrong").send(message(to: unique())) }
        guard case .transient = refused else {
            Issue.record("expected a transient failure, got \(String(describing: refused))")
            return
        }
    }

    @Test("a certificate that chains to no trusted root stops the session before AUTH")
    func untrustedCertificate() async {
        let address = unique()
        let refused = await failure { try await relay(trusted: false).send(message(to: address)) }
        guard case .transient = refused else {
            Issue.record("expected a transient failure, got \(String(describing: refused))")
            return
        }
        #expect(Mailbox.messages(to: address, in: relayMail).isEmpty)
    }

    @Test("with TLS required, a server without STARTTLS gets nothing")
    func requiredTLS() async {
        let address = unique()
        let mailer = SMTPMailer(configuration: SMTPConfiguration(url: TestEnvironment.smtpURL, requireTLS: true, from: "sender@relay.test"))
        let refused = await failure { try await mailer.send(message(to: address)) }
        guard case .transient(let reason) = refused else {
            Issue.record("expected a transient failure, got \(String(describing: refused))")
            return
        }
        #expect(reason.contains("STARTTLS"))
        #expect(Mailbox.messages(to: address).isEmpty)
    }

    @Test("a server that offers no PIPELINING gets the envelope one command at a time")
    func lockStep() async throws {
        let address = unique()
        let mailer = SMTPMailer(configuration: SMTPConfiguration(url: TestEnvironment.smtpURL, requireTLS: false, from: "sender@relay.test"))
        try await mailer.send(message(to: address))
        #expect(try await Mailbox.first(to: address, timeout: .seconds(10)) != nil)
    }

    @Test("a server silent past the timeout fails the send as transient")
    func silentServer() async {
        let refused = await failure { try await relay(timeoutSeconds: 1).send(message(to: "slow@relay.test")) }
        guard case .transient(let reason) = refused else {
            Issue.record("expected a transient failure, got \(String(describing: refused))")
            return
        }
        #expect(reason.contains("within 1 s"))
    }

    @Test("an SMTP server that cannot be reached is a transient failure (retried), not a bounce")
    func unreachableServer() async {
        let mailer = SMTPMailer(configuration: SMTPConfiguration(url: "smtp://127.0.0.1:1", requireTLS: false, from: "a@b.test"))
        guard case .transient = await failure(of: { try await mailer.send(message(to: "c@d.test")) }) else {
            Issue.record("expected a transient failure")
            return
        }
    }

    @Test(
        "an address that could smuggle a command into the envelope is refused before connecting",
        arguments: [
            "victim@relay.test>\r\nRCPT TO:<other@relay.test", "a b@relay.test", "",
        ])
    func envelopeInjection(address: String) async {
        let mailer = SMTPMailer(configuration: SMTPConfiguration(url: "smtp://127.0.0.1:1", requireTLS: false, from: "a@b.test"))
        guard case .rejected(553, _) = await failure(of: { try await mailer.send(message(to: address)) }) else {
            Issue.record("expected a 553 rejection")
            return
        }
    }

    @Test("lines that start with a dot are doubled, and the content ends with CRLF and a lone dot")
    func dotStuffing() {
        let content = SMTPMailer.dataContent("Subject: x\r\n\r\n.hidden\r\n..two\r\nend")
        #expect(String(buffer: content) == "Subject: x\r\n\r\n..hidden\r\n...two\r\nend\r\n.\r\n")
    }

    @Test("a server URL is smtp:// or smtps://, with the port each implies")
    func serverURLs() throws {
        #expect(throws: SMTPFailure.self) { try SMTPServer(url: "http://127.0.0.1:25") }
        #expect(try SMTPServer(url: "smtps://mail.example.com").port == 465)
        #expect(try SMTPServer(url: "smtp://mail.example.com").port == 25)
        #expect(try SMTPServer(url: "smtp://127.0.0.1:2525").tlsName == nil)
        #expect(try SMTPServer(url: "smtp://mail.example.com").tlsName == "mail.example.com")
    }
}
