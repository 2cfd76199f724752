import Contracts
import Foundation
import Messaging
import TestSupport
import Testing

@testable import Notifications

/// Webhook deliveries/s and emails/s against the local receivers (the test webhook
/// endpoint and aiosmtpd), and event → webhook delivery latency under a steady load with
/// a healthy endpoint. Runs only under `make bench-notifications` (BENCH=1, release build);
/// prints figures, asserts none.
@Suite("notifications benchmark", .enabled(if: ProcessInfo.processInfo.environment["BENCH"] != nil), .serialized)
struct NotificationsBenchmark {
    static let webhooks = 5000
    static let steadyRate = 400
    static let steadySeconds = 5
    static let emails = 4000
    static let emailTenants = 4

    @Test("webhooks/s, emails/s, event to webhook delivery latency")
    func benchmark() async throws {
        _ = try await NotificationsServer.shared.get()
        let receiver = try await WebhookReceiver.shared.value()
        let producer = try KafkaProducer(brokers: TestEnvironment.kafkaBrokers, clientID: "notifications-bench", logger: TestEnvironment.logger)
        let hookTenant = UUID.v7()
        let mailTenants = (0..<Self.emailTenants).map { _ in UUID.v7() }
        // Enterprise plans, so the per-tenant send rates do not bind.
        for tenant in [hookTenant] + mailTenants {
            let event = TenantEvent(
                tenantId: tenant, name: "bench", slug: "bench-\(tenant.uuidString.prefix(8).lowercased())", status: "active", plan: "enterprise",
                version: 1,
                occurredAt: Date())
            try await producer.send(
                Self.message(try .make(event, type: TenantEvent.created, on: Topics.authTenant, source: "/bench", tenantID: tenant)))
        }
        try await Task.sleep(for: .seconds(3))
        // One event through first: the feed's consumer has joined its group and is reading,
        // so the burst measures deliveries, not the group join after start-up.
        let warmUp = "/bench-warm-up/\(hookTenant)"
        _ = try await register("\(receiver.baseURL)\(warmUp)", tenant: hookTenant)
        Self.check(await producer.send([Self.message(try Self.taskEvent(tenant: hookTenant, title: "warm-up"))]))
        _ = try await receiver.waitFor(1, to: warmUp, timeout: .seconds(60))
        try await Self.removeEndpoints(of: hookTenant)
        let path = "/bench/\(hookTenant)"
        _ = try await register("\(receiver.baseURL)\(path)", tenant: hookTenant)

        // 1. Throughput: every event produced at once.
        let burstStart = Date()
        var batch: [OutgoingMessage] = []
        for index in 0..<Self.webhooks {
            batch.append(Self.message(try Self.taskEvent(tenant: hookTenant, title: "burst \(index) \(Date().timeIntervalSince1970)")))
        }
        Self.check(await producer.send(batch))
        print(String(format: "BENCH webhook burst: %d events produced in %.2f s", Self.webhooks, Date().timeIntervalSince(burstStart)))
        let burst = try await receiver.waitFor(Self.webhooks, to: path, timeout: .seconds(300))
        let burstEnd = burst.map(\.at).max() ?? Date()
        let firstDelivery = burst.map(\.at).min() ?? burstEnd
        print(
            String(
                format: "BENCH webhook deliveries: %d in %.1f s = %.0f/s (target >= 1000); first after %.2f s, then %.0f/s", burst.count,
                burstEnd.timeIntervalSince(burstStart), Double(burst.count) / burstEnd.timeIntervalSince(burstStart),
                firstDelivery.timeIntervalSince(burstStart),
                Double(burst.count) / max(0.001, burstEnd.timeIntervalSince(firstDelivery))))

        // 2. Latency under a steady load well inside the throughput.
        let steadyPath = "/bench-steady/\(hookTenant)"
        try await Self.removeEndpoints(of: hookTenant)
        _ = try await register("\(receiver.baseURL)\(steadyPath)", tenant: hookTenant)
        let total = Self.steadyRate * Self.steadySeconds
        let tick = Duration.milliseconds(100)
        var sent = 0
        while sent < total {
            let next = ContinuousClock.now + tick
            var slice: [OutgoingMessage] = []
            for _ in 0..<(Self.steadyRate / 10) {
                slice.append(Self.message(try Self.taskEvent(tenant: hookTenant, title: "steady \(Date().timeIntervalSince1970)")))
            }
            Self.check(await producer.send(slice))
            sent += slice.count
            try await Task.sleep(until: next)
        }
        let steady = try await receiver.waitFor(total, to: steadyPath, timeout: .seconds(120))
        let latencies = steady.compactMap { received -> Double? in
            guard let range = received.body.range(of: "steady "), let end = received.body[range.upperBound...].firstIndex(of: "\"") else {
                return nil
            }
            return Double(received.body[range.upperBound..<end]).map { received.at.timeIntervalSince1970 - $0 }
        }.sorted()
        print(
            String(
                format: "BENCH event → webhook delivery at %d events/s: p50 %.0f ms, p99 %.0f ms (target p99 <= 1000 ms; %d delivered)",
                Self.steadyRate, Self.percentile(latencies, 0.5) * 1000, Self.percentile(latencies, 0.99) * 1000, steady.count))

        // 3. Email throughput through the broker to aiosmtpd.
        let newMail = URL(fileURLWithPath: TestEnvironment.maildir).appendingPathComponent("new")
        let before = (try? FileManager.default.contentsOfDirectory(atPath: newMail.path).count) ?? 0
        let mailStart = Date()
        var requests: [OutgoingMessage] = []
        for index in 0..<Self.emails {
            let tenant = mailTenants[index % mailTenants.count]
            let command = request(tenant: tenant, email: "bench-\(index)@example.com", channels: ["email"], priority: .urgent)
            requests.append(
                Self.message(try .make(command, type: NotificationRequest.type, on: Topics.notificationsRequest, source: "/bench", tenantID: tenant)))
        }
        Self.check(await producer.send(requests))
        let produced = Date().timeIntervalSince(mailStart)
        var delivered = 0
        var accepted: TimeInterval?
        var firstMail: (at: Date, count: Int)?
        let deadline = Date().addingTimeInterval(300)
        while delivered < Self.emails, Date() < deadline {
            try await Task.sleep(for: .milliseconds(100))
            delivered = ((try? FileManager.default.contentsOfDirectory(atPath: newMail.path).count) ?? 0) - before
            if firstMail == nil, delivered > 0 { firstMail = (Date(), delivered) }
            if accepted == nil, try await Self.stored(mailTenants) >= Self.emails { accepted = Date().timeIntervalSince(mailStart) }
        }
        let mailSeconds = Date().timeIntervalSince(mailStart)
        let flowing = firstMail.map { Double(delivered - $0.count) / max(0.001, Date().timeIntervalSince($0.at)) } ?? 0
        print(
            String(
                format: "BENCH email requests: %d produced in %.2f s, all stored (intake) after %.1f s = %.0f/s", Self.emails, produced,
                accepted ?? 0,
                Double(Self.emails) / (accepted ?? mailSeconds)))
        print(
            String(
                format: "BENCH emails: %d in %.1f s = %.0f/s (target >= 300); first after %.2f s, then %.0f/s", delivered, mailSeconds,
                Double(delivered) / mailSeconds, firstMail.map { $0.at.timeIntervalSince(mailStart) } ?? 0, flowing))
        await producer.shutdown()
    }

    static func removeEndpoints(of tenant: UUID) async throws {
        _ = try await withDatabase("notifications") { database in
            try await database.withTenant(tenant) { connection in
                try await connection.query("DELETE FROM notifications.webhook_endpoints", logger: database.logger)
            }
        }
    }

    /// Notifications stored for these tenants so far.
    static func stored(_ tenants: [UUID]) async throws -> Int {
        try await withDatabase("notifications") { database in
            var total = 0
            for tenant in tenants {
                total += try await database.withTenant(tenant) { connection in
                    for try await (count, ) in try await connection.query("SELECT count(*) FROM notifications.notifications", logger: database.logger)
                        .decode((Int,).self)
                    {
                        return count
                    }
                    return 0
                }
            }
            return total
        }
    }

    static func taskEvent(tenant: UUID, title: String) throws -> EventEnvelope {
        let payload = TaskChanged(
            taskId: .v7(), tenantId: tenant, projectId: nil, parentId: nil, title: title, description: nil, status: "todo", priority: 1, tags: [],
            dueAt: nil, assigneeId: nil, version: 1, occurredAt: Date())
        return try .make(payload, type: TaskChanged.created, on: Topics.tasksTask, source: "/bench", tenantID: tenant)
    }

    static func message(_ event: EventEnvelope) -> OutgoingMessage {
        OutgoingMessage(topic: event.topic, key: event.key, value: Array(event.data), headers: event.headers)
    }

    static func check(_ results: [KafkaError?]) {
        if let error = results.compactMap({ $0 }).first { Issue.record("produce failed: \(error)") }
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }
}
