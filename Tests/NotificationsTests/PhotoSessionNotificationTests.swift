import Contracts
import Foundation
import Messaging
import TestSupport
import Testing

@testable import Notifications

@Suite("photo session notifications")
struct PhotoSessionNotificationTests {
    static func finished(tenant: UUID, uploader: String, state: String, version: Int = 3) -> PhotoSessionFinished {
        PhotoSessionFinished(
            sessionId: .v7(), tenantId: tenant, locationId: .v7(), locationName: "Bench 7", productId: nil, productName: nil, uploadedBy: uploader,
            state: state, photos: 1, detected: state == "failed" ? 0 : 412, counts: state == "failed" ? [] : [.init(name: "plant", count: 412)],
            estimate: state == "failed" ? nil : .init(method: "density", count: 420, low: 400, high: 440), warnings: [],
            error: state == "failed" ? "the photo could not be decoded" : nil, version: version, occurredAt: Date())
    }

    static func publish(_ payload: PhotoSessionFinished, times: Int = 1) async throws {
        let event = try EventEnvelope.make(
            payload, type: PhotoSessionFinished.type(of: payload.state), on: Topics.photomlSession, source: "/tests", tenantID: payload.tenantId)
        let producer = try KafkaProducer(brokers: TestEnvironment.kafkaBrokers, clientID: "notifications-tests", logger: TestEnvironment.logger)
        for _ in 0..<times {
            try await producer.send(OutgoingMessage(topic: event.topic, key: event.key, value: Array(event.data), headers: event.headers))
        }
        await producer.shutdown()
    }

    @Test("the uploader is told once when their session completes, and why when it fails")
    func uploaderTold() async throws {
        _ = try await NotificationsServer.shared.get()
        let tenant = UUID.v7()
        let user = UUID.v7()
        try await Self.publish(Self.finished(tenant: tenant, uploader: user.uuidString.lowercased(), state: "completed"), times: 2)
        try await Self.publish(Self.finished(tenant: tenant, uploader: user.uuidString.lowercased(), state: "failed"))
        let both = try await eventually(timeout: .seconds(40)) {
            inboxTitles(try await call("GET", "/v1/notifications", tenant: tenant, user: user)).count >= 2
        }
        #expect(both)
        try await Task.sleep(for: .seconds(1))
        let inbox = try await call("GET", "/v1/notifications", tenant: tenant, user: user)
        #expect(
            Set(inboxTitles(inbox)) == ["Bench 7: 412 plants counted", "Bench 7: your photos could not be counted"], "\(inboxTitles(inbox))")
        let bodies = (inbox.json["items"] as? [[String: Any]] ?? []).compactMap { $0["body"] as? String }
        #expect(bodies.contains { $0.contains("an estimated 420 (400–440)") })
        #expect(bodies.contains { $0.contains("the photo could not be decoded") })
        #expect(inboxTitles(try await call("GET", "/v1/notifications", tenant: .v7(), user: user)).isEmpty)
    }

    @Test("a session uploaded by an API client (no user) tells nobody; a retried session that ends again is news")
    func requests() {
        let tenant = UUID.v7()
        #expect(PhotoSessionFeed.request(for: Self.finished(tenant: tenant, uploader: "inventory-scanner", state: "completed")) == nil)
        var session = Self.finished(tenant: tenant, uploader: UUID.v7().uuidString, state: "failed", version: 2)
        let first = PhotoSessionFeed.request(for: session)
        session.version = 4
        let again = PhotoSessionFeed.request(for: session)
        #expect(first?.idempotencyKey != again?.idempotencyKey)
        #expect(first?.templateKey == PhotoSessionFeed.failedTemplate)
    }
}

@Suite("suppressed addresses")
struct SuppressedAddressTests {
    @Test("an address campaigns suppressed gets no transactional email until the suppression is removed")
    func suppressed() async throws {
        _ = try await NotificationsServer.shared.get()
        let tenant = UUID.v7()
        let address = "bounced-\(UUID().uuidString.prefix(8).lowercased())@example.com"
        let producer = try KafkaProducer(brokers: TestEnvironment.kafkaBrokers, clientID: "notifications-tests", logger: TestEnvironment.logger)
        let added = SuppressionChanged(tenantId: tenant, email: address, reason: "hard_bounce", detail: nil, occurredAt: Date())
        let event = try EventEnvelope.make(added, type: SuppressionChanged.added, on: Topics.campaignsSuppression, source: "/tests", tenantID: tenant)
        try await producer.send(OutgoingMessage(topic: event.topic, key: event.key, value: Array(event.data), headers: event.headers))
        await producer.shutdown()
        let applied = try await eventually(timeout: .seconds(40)) {
            try await withDatabase("notifications") { database in
                try await database.withTenant(tenant) { connection in
                    try await AddressSuppressionStore.suppressed([address], on: connection, logger: database.logger) == [address]
                }
            }
        }
        #expect(applied)
        let key = "suppressed-\(UUID().uuidString)"
        try await accept(request(tenant: tenant, email: address, channels: ["email"], key: key))
        let delivery = try await emailDelivery(tenant: tenant, key: key)
        #expect(delivery?.0 == "suppressed")
        #expect(delivery?.1?.contains("campaigns suppressed") == true)
    }
}
