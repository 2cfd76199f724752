import Contracts
import Foundation
import Mail
import Messaging
import TestSupport
import Testing

@testable import Notifications

@Suite("email delivery")
struct EmailTests {
    @Test("a request on notifications.request.v1 reaches the inbox and the mailbox once, even when sent twice")
    func throughTheBroker() async throws {
        _ = try await NotificationsServer.shared.get()
        let tenant = UUID.v7()
        let user = UUID.v7()
        let address = "broker-\(UUID().uuidString.prefix(8))@example.com"
        try await addMember(tenant: tenant, user: user, email: address, name: "Grace Hopper")
        let command = request(tenant: tenant, user: user, data: ["title": "Calibrate the loom", "taskId": UUID().uuidString])
        let event = try EventEnvelope.make(
            command, type: NotificationRequest.type, on: Topics.notificationsRequest, source: "/tests", tenantID: tenant)
        let producer = try KafkaProducer(brokers: TestEnvironment.kafkaBrokers, clientID: "notifications-tests", logger: TestEnvironment.logger)
        for _ in 0..<2 {
            try await producer.send(OutgoingMessage(topic: event.topic, key: event.key, value: Array(event.data), headers: event.headers))
        }
        await producer.shutdown()

        let mail = try #require(try await Mailbox.first(to: address))
        #expect(mail.subject == "Reminder: Calibrate the loom")
        #expect(
            try await eventually {
                inboxTitles(try await call("GET", "/v1/notifications", tenant: tenant, user: user)) == ["Reminder: Calibrate the loom"]
            })
        try await Task.sleep(for: .seconds(1))
        #expect(Mailbox.messages(to: address).count == 1)
        #expect(inboxTitles(try await call("GET", "/v1/notifications", tenant: tenant, user: user)).count == 1)
    }

    @Test("a request whose payload names another tenant goes to dlq.notifications and is not stored; the rest of its batch is")
    func poisonRequest() async throws {
        _ = try await NotificationsServer.shared.get()
        let reader = try TopicReader(topic: Topic.deadLetter(for: "notifications").name)
        defer { Task { await reader.close() } }
        let tenant = UUID.v7()
        let user = UUID.v7()
        let smuggled = "smuggled-\(UUID().uuidString)"
        var poison = try EventEnvelope.make(
            request(tenant: tenant, user: user, channels: ["in_app"], key: smuggled), type: NotificationRequest.type, on: Topics.notificationsRequest,
            source: "/tests", tenantID: tenant)
        poison.tenantID = .v7()
        let good = try EventEnvelope.make(
            request(tenant: tenant, user: user, data: ["title": "After the poison", "taskId": "t"], channels: ["in_app"]),
            type: NotificationRequest.type, on: Topics.notificationsRequest, source: "/tests", tenantID: tenant)
        let producer = try KafkaProducer(brokers: TestEnvironment.kafkaBrokers, clientID: "notifications-tests", logger: TestEnvironment.logger)
        for event in [poison, good] {
            try await producer.send(OutgoingMessage(topic: event.topic, key: event.key, value: Array(event.data), headers: event.headers))
        }
        await producer.shutdown()
        let poisonID = poison.id.uuidString.lowercased()
        let dead = try await reader.first(timeout: .seconds(60)) { $0.headers["ce_id"] == poisonID }
        #expect(dead?.headers["dlq_error"] == "payload tenant differs from ce_tenantid")
        #expect(
            try await eventually(timeout: .seconds(60)) {
                inboxTitles(try await call("GET", "/v1/notifications", tenant: tenant, user: user)) == ["Reminder: After the poison"]
            })
    }

    @Test("an email has Date, Message-ID, an encoded UTF-8 subject, text and HTML parts, and List-Unsubscribe only when not transactional")
    func messageFormat() async throws {
        let tenant = UUID.v7()
        let user = UUID.v7()
        let address = "format-\(UUID().uuidString.prefix(8))@example.com"
        try await addMember(tenant: tenant, user: user, email: address)
        try await accept(request(tenant: tenant, user: user, data: ["title": "Überprüfung der Geräte 🚀 <b>", "taskId": "t-1"]))
        let mail = try #require(try await Mailbox.first(to: address))
        #expect(mail.headers["subject"]?.hasPrefix("=?UTF-8?B?") == true)
        #expect(mail.subject == "Reminder: Überprüfung der Geräte 🚀 <b>")
        #expect(mail.headers["date"] != nil)
        #expect(mail.headers["message-id"]?.hasSuffix("@platform.test>") == true)
        #expect(mail.headers["content-type"]?.hasPrefix("multipart/alternative") == true)
        #expect(mail.headers["list-unsubscribe"] == "<https://app.test/settings/notifications?category=tasks>")
        #expect(mail.parts["text/plain"]?.contains("Überprüfung der Geräte 🚀 <b>") == true)
        #expect(mail.parts["text/plain"]?.contains("https://app.test/tasks/t-1") == true)
        // HTML escapes the values it is given.
        #expect(mail.parts["text/html"]?.contains("Geräte 🚀 &lt;b&gt;") == true)

        let other = "reset-\(UUID().uuidString.prefix(8))@example.com"
        try await accept(
            request(
                tenant: tenant, email: other, category: "security", template: "auth.password_reset", data: ["name": "Ada", "token": "abc123"],
                channels: ["email"], priority: .urgent))
        let reset = try #require(try await Mailbox.first(to: other))
        #expect(reset.subject == "Reset your password")
        #expect(reset.headers["list-unsubscribe"] == nil)
        #expect(reset.parts["text/plain"]?.contains("https://app.test/reset-password?token=abc123") == true)
    }

    @Test("a delivery that was sent is announced on notifications.delivery.v1")
    func outcomeEvents() async throws {
        let reader = try TopicReader(topic: Topics.notificationsDelivery.name)
        defer { Task { await reader.close() } }
        let tenant = UUID.v7()
        let key = "outcome-\(UUID().uuidString)"
        try await accept(request(tenant: tenant, email: "outcome@example.com", channels: ["email"], key: key))
        let sent = try await reader.first { message in
            guard let event = try? EventConsumer.envelope(message), let outcome = try? event.decode(NotificationDelivery.self) else { return false }
            return outcome.idempotencyKey == key && outcome.state == "sent"
        }
        #expect(sent != nil)
        #expect(try await emailDelivery(tenant: tenant, key: key)?.0 == "sent")
    }

    @Test("a recipient without a known address gets the inbox notification and a failed email delivery, never a crash")
    func unknownAddress() async throws {
        let tenant = UUID.v7()
        let user = UUID.v7()
        let key = "nobody-\(UUID().uuidString)"
        try await accept(request(tenant: tenant, user: user, key: key))
        #expect(inboxTitles(try await call("GET", "/v1/notifications", tenant: tenant, user: user)).count == 1)
        let delivery = try #require(try await emailDelivery(tenant: tenant, key: key))
        #expect(delivery.0 == "failed")
        #expect(delivery.1 == "no email address is known for the recipient")
    }

    @Test("the Date header is RFC 5322's, in UTC")
    func dateHeader() {
        #expect(EmailMessage.rfc5322Date(Date(timeIntervalSince1970: 1_796_118_547.9)) == "Tue, 01 Dec 2026 09:49:07 +0000")
        #expect(EmailMessage.rfc5322Date(Date(timeIntervalSince1970: 0)) == "Thu, 01 Jan 1970 00:00:00 +0000")
    }

    @Test("long non-ASCII subjects are split into encoded words of at most 75 characters on character boundaries")
    func encodedWords() {
        let subject = String(repeating: "Grüße aus Köln 🎉 ", count: 6)
        let encoded = EmailMessage.encodedHeader(subject)
        let words = encoded.components(separatedBy: "\r\n ")
        #expect(words.count > 1)
        #expect(words.allSatisfy { $0.count <= 75 && $0.hasPrefix("=?UTF-8?B?") && $0.hasSuffix("?=") })
        let decoded = words.map { word in
            String(decoding: Data(base64Encoded: String(word.dropFirst(10).dropLast(2))) ?? Data(), as: UTF8.self)
        }.joined()
        #expect(decoded == subject)
        #expect(EmailMessage.encodedHeader("Plain ASCII") == "Plain ASCII")
    }
}
