import AsyncHTTPClient
import Contracts
import Crypto
import Foundation
import Messaging
import NIOCore
import Outbound
import Synchronization
import TestSupport
import Testing

@testable import Notifications

/// Sends a task event through the broker, as the tasks service's relay would.
func publishTask(tenant: UUID, title: String, type: String = TaskChanged.created) async throws -> EventEnvelope {
    let payload = TaskChanged(
        taskId: .v7(), tenantId: tenant, projectId: nil, parentId: nil, title: title, description: nil, status: "todo", priority: 1, tags: [],
        dueAt: nil, assigneeId: nil, version: 1, occurredAt: Date())
    let event = try EventEnvelope.make(payload, type: type, on: Topics.tasksTask, source: "/tests", tenantID: tenant)
    let producer = try KafkaProducer(brokers: TestEnvironment.kafkaBrokers, clientID: "notifications-tests", logger: TestEnvironment.logger)
    try await producer.send(OutgoingMessage(topic: event.topic, key: event.key, value: Array(event.data), headers: event.headers))
    await producer.shutdown()
    return event
}

func register(_ url: String, tenant: UUID, eventTypes: [String]? = nil) async throws -> (id: String, secret: String) {
    var body: [String: Any] = ["url": url, "description": "test endpoint"]
    if let eventTypes { body["eventTypes"] = eventTypes }
    let answer = try await call("POST", "/v1/admin/webhooks", tenant: tenant, roles: ["admin"], json: body)
    #expect(answer.status == 201)
    let endpoint = try #require(answer.json["endpoint"] as? [String: Any])
    return (try #require(endpoint["id"] as? String), try #require(answer.string("secret")))
}

/// Verifies a Standard Webhooks signature header against one secret.
func signatureValid(_ received: WebhookReceiver.Received, secret: String) -> Bool {
    guard let id = received.headers["webhook-id"], let timestamp = received.headers["webhook-timestamp"],
        let header = received.headers["webhook-signature"], let key = Data(base64Encoded: String(secret.dropFirst(6)))
    else { return false }
    let expected = Data(HMAC<SHA256>.authenticationCode(for: Data("\(id).\(timestamp).\(received.body)".utf8), using: SymmetricKey(data: key)))
    return header.split(separator: " ").contains { "v1," + expected.base64EncodedString() == $0 }
}

@Suite("webhooks")
struct WebhookTests {
    @Test("a task event reaches a registered endpoint signed per Standard Webhooks; an endpoint filtering other types gets nothing")
    func signedDelivery() async throws {
        let receiver = try await WebhookReceiver.shared.value()
        let tenant = UUID.v7()
        let (_, secret) = try await register("\(receiver.baseURL)/signed/\(tenant)", tenant: tenant)
        #expect(secret.hasPrefix("whsec_") && (Data(base64Encoded: String(secret.dropFirst(6)))?.count ?? 0) >= 24)
        _ = try await register("\(receiver.baseURL)/deletes/\(tenant)", tenant: tenant, eventTypes: [TaskDeleted.type])
        let listed = try await call("GET", "/v1/admin/webhooks", tenant: tenant, roles: ["admin"])
        #expect((listed.json["items"] as? [[String: Any]])?.count == 2)
        #expect(!String(decoding: listed.body, as: UTF8.self).contains("whsec_"))

        let event = try await publishTask(tenant: tenant, title: "Hooked task")
        let received = try #require(try await receiver.waitFor(1, to: "/signed/\(tenant)").first)
        #expect(received.headers["webhook-id"]?.hasPrefix("msg_") == true)
        #expect(signatureValid(received, secret: secret))
        let body = try #require(try JSONSerialization.jsonObject(with: Data(received.body.utf8)) as? [String: Any])
        #expect(body["type"] as? String == TaskChanged.created)
        #expect((body["data"] as? [String: Any])?["title"] as? String == "Hooked task")
        #expect(abs((Double(received.headers["webhook-timestamp"] ?? "") ?? 0) - Date().timeIntervalSince1970) < 60)
        _ = event
        try await Task.sleep(for: .milliseconds(500))
        #expect(receiver.requests(to: "/deletes/\(tenant)").isEmpty)
    }

    @Test("failures are retried with the same webhook-id, every attempt is listed, and 429 is honoured")
    func retries() async throws {
        let receiver = try await WebhookReceiver.shared.value()
        let tenant = UUID.v7()
        let path = "/flaky/\(tenant)"
        receiver.script(path, [500, 429, 200])
        let (id, _) = try await register("\(receiver.baseURL)\(path)", tenant: tenant)
        _ = try await publishTask(tenant: tenant, title: "Retry me")
        let attempts = try await receiver.waitFor(3, to: path)
        #expect(attempts.count == 3)
        #expect(Set(attempts.compactMap { $0.headers["webhook-id"] }).count == 1)
        #expect(
            try await eventually {
                let list = try await call("GET", "/v1/admin/webhooks/\(id)/deliveries", tenant: tenant, roles: ["admin"])
                let delivery = (list.json["items"] as? [[String: Any]])?.first
                let codes = (delivery?["attempts"] as? [[String: Any]] ?? []).compactMap { $0["statusCode"] as? Int }
                return delivery?["state"] as? String == "succeeded" && codes == [500, 429, 200]
            })
    }

    @Test("an endpoint slower than the timeout is recorded as timed out and retried")
    func timeout() async throws {
        let receiver = try await WebhookReceiver.shared.value()
        let tenant = UUID.v7()
        let (id, _) = try await register("\(receiver.baseURL)/slow/\(tenant)", tenant: tenant)
        _ = try await publishTask(tenant: tenant, title: "Too slow")
        // The endpoint answers after 10 s: an attempt well under that was cut off by the
        // 1-s timeout, with room for a busy machine.
        #expect(
            try await eventually(timeout: .seconds(60)) {
                let list = try await call("GET", "/v1/admin/webhooks/\(id)/deliveries", tenant: tenant, roles: ["admin"])
                let attempts = (list.json["items"] as? [[String: Any]])?.first?["attempts"] as? [[String: Any]] ?? []
                return attempts.count >= 2
                    && attempts.allSatisfy {
                        $0["error"] as? String == "timed out after 1 s" && !($0["statusCode"] is Int) && ($0["latencyMs"] as? Int ?? 0) < 6000
                    }
            })
    }

    @Test("a delivery that exhausts its attempts fails; a manual retry and a bulk replay send it again")
    func retryAndReplay() async throws {
        let receiver = try await WebhookReceiver.shared.value()
        let tenant = UUID.v7()
        let path = "/down/\(tenant)"
        receiver.script(path, Array(repeating: 500, count: 4))
        let (id, _) = try await register("\(receiver.baseURL)\(path)", tenant: tenant)
        let started = Date()
        _ = try await publishTask(tenant: tenant, title: "Doomed")
        // Four attempts after the event crosses the broker: generous on a busy machine.
        #expect(
            try await eventually(timeout: .seconds(60)) {
                let list = try await call("GET", "/v1/admin/webhooks/\(id)/deliveries", tenant: tenant, roles: ["admin"])
                return (list.json["items"] as? [[String: Any]])?.first?["state"] as? String == "failed"
            })
        let list = try await call("GET", "/v1/admin/webhooks/\(id)/deliveries", tenant: tenant, roles: ["admin"])
        let deliveryID = try #require((list.json["items"] as? [[String: Any]])?.first?["id"] as? String)
        #expect(receiver.requests(to: path).count == 4)
        #expect(try await call("POST", "/v1/admin/webhooks/\(id)/deliveries/\(deliveryID)/retry", tenant: tenant, roles: ["admin"]).status == 202)
        #expect(try await receiver.waitFor(5, to: path).count == 5)
        #expect(
            try await eventually {
                let list = try await call("GET", "/v1/admin/webhooks/\(id)/deliveries", tenant: tenant, roles: ["admin"])
                return (list.json["items"] as? [[String: Any]])?.first?["state"] as? String == "succeeded"
            })
        // A succeeded delivery is not retried; nothing failed is left to replay.
        #expect(try await call("POST", "/v1/admin/webhooks/\(id)/deliveries/\(deliveryID)/retry", tenant: tenant, roles: ["admin"]).status == 404)
        let replay = try await call(
            "POST", "/v1/admin/webhooks/\(id)/deliveries/replay", tenant: tenant, roles: ["admin"],
            json: ["since": ISO8601DateFormatter().string(from: started.addingTimeInterval(-60))])
        #expect(replay.json["queued"] as? Int == 0)
    }

    @Test("410 Gone disables the endpoint and the tenant's admins are told by email")
    func goneDisables() async throws {
        let receiver = try await WebhookReceiver.shared.value()
        let tenant = UUID.v7()
        let admin = UUID.v7()
        let address = "hookadmin-\(UUID().uuidString.prefix(8))@example.com"
        try await addMember(tenant: tenant, user: admin, email: address, role: "owner")
        let path = "/gone/\(tenant)"
        receiver.script(path, [410])
        let (id, _) = try await register("\(receiver.baseURL)\(path)", tenant: tenant)
        _ = try await publishTask(tenant: tenant, title: "Nobody home")
        let mail = try #require(try await Mailbox.first(to: address))
        #expect(mail.subject == "A webhook endpoint was disabled")
        #expect(mail.parts["text/plain"]?.contains("410 Gone") == true)
        let endpoint = try await call("GET", "/v1/admin/webhooks/\(id)", tenant: tenant, roles: ["admin"])
        #expect(endpoint.json["disabled"] as? Bool == true)
        // A disabled endpoint gets no new messages until it is enabled again.
        _ = try await publishTask(tenant: tenant, title: "Still nobody")
        try await Task.sleep(for: .seconds(1))
        #expect(receiver.requests(to: path).count == 1)
        #expect(try await call("POST", "/v1/admin/webhooks/\(id)/enable", tenant: tenant, roles: ["admin"]).json["disabled"] as? Bool == false)
        _ = try await publishTask(tenant: tenant, title: "Back again")
        // A feed running behind may still be on "Still nobody", which then also arrives: the
        // endpoint was enabled by the time it was read.
        #expect(try await eventually(timeout: .seconds(60)) { receiver.requests(to: path).contains { $0.body.contains("Back again") } })
    }

    @Test("after a secret rotation both the new and the old secret sign until the overlap ends")
    func rotation() async throws {
        let receiver = try await WebhookReceiver.shared.value()
        let tenant = UUID.v7()
        let path = "/rotating/\(tenant)"
        let (id, old) = try await register("\(receiver.baseURL)\(path)", tenant: tenant)
        let rotated = try await call("POST", "/v1/admin/webhooks/\(id)/rotate-secret", tenant: tenant, roles: ["admin"], json: ["overlapHours": 1])
        #expect(rotated.status == 200)
        let new = try #require(rotated.string("secret"))
        #expect(new != old)
        _ = try await publishTask(tenant: tenant, title: "Twice signed")
        let received = try #require(try await receiver.waitFor(1, to: path).first)
        #expect(received.headers["webhook-signature"]?.split(separator: " ").count == 2)
        #expect(signatureValid(received, secret: new))
        #expect(signatureValid(received, secret: old))
        #expect(
            try await call("POST", "/v1/admin/webhooks/\(id)/rotate-secret", tenant: tenant, roles: ["admin"], json: ["overlapHours": 500]).status
                == 422)
    }

    @Test("internal addresses, plain http where https is required, and bad input are refused; other tenants' endpoints are 404")
    func refusals() async throws {
        let tenant = UUID.v7()
        for url in ["http://169.254.169.254/latest/meta-data", "http://10.0.0.8/hook", "http://[fe80::1]/hook", "ftp://example.com/x", "not a url"] {
            let answer = try await call("POST", "/v1/admin/webhooks", tenant: tenant, roles: ["admin"], json: ["url": url])
            #expect(answer.status == 422, "\(url)")
        }
        #expect(
            try await call(
                "POST", "/v1/admin/webhooks", tenant: tenant, roles: ["admin"], json: ["url": "http://127.0.0.1:9/x", "eventTypes": ["no.such"]]
            ).status == 422)
        #expect(try await call("POST", "/v1/admin/webhooks", tenant: tenant, roles: ["admin"], json: ["description": "no url"]).status == 422)
        #expect(try await call("POST", "/v1/admin/webhooks", tenant: tenant, roles: ["member"], json: ["url": "http://127.0.0.1:9/x"]).status == 403)
        let (id, _) = try await register("http://127.0.0.1:9/x", tenant: tenant)
        let other = UUID.v7()
        for (method, path) in [("GET", ""), ("GET", "/deliveries"), ("POST", "/enable"), ("DELETE", "")] {
            #expect(try await call(method, "/v1/admin/webhooks/\(id)\(path)", tenant: other, roles: ["admin"]).status == 404)
        }
        #expect(try await call("POST", "/v1/admin/webhooks/\(id)/deliveries/replay", tenant: tenant, roles: ["admin"], json: [:]).status == 422)
        #expect(try await call("DELETE", "/v1/admin/webhooks/\(id)", tenant: tenant, roles: ["admin"]).status == 204)
        #expect(try await call("GET", "/v1/admin/webhooks/\(id)", tenant: tenant, roles: ["admin"]).status == 404)

        let strict = DestinationPolicy()
        await #expect(throws: DestinationPolicy.Refusal.insecureScheme) { try await strict.check("http://example.com/x") }
        await #expect(throws: DestinationPolicy.Refusal.forbiddenAddress("127.0.0.1")) { try await strict.check("https://127.0.0.1/x") }
        #expect(DestinationPolicy.classify(v4: 0xC0A8_0101) == .private)
        #expect(DestinationPolicy.classify(v4: 0x0808_0808) == .public)
        #expect(DestinationPolicy.classify(v4: 0x6440_0001) == .private)
    }

    @Test(
        "IPv6 forms that carry or reach an internal IPv4 address are refused",
        arguments: [
            "64:ff9b::a00:1", "64:ff9b:1::7f00:1", "2002:a00:1::1", "::10.0.0.1", "::127.0.0.1", "fec0::1", "fe80::1", "::ffff:10.0.0.1",
        ])
    func refusedIPv6(_ address: String) async throws {
        let judged = DestinationPolicy.classify(try SocketAddress(ipAddress: address, port: 443))
        #expect(judged == .forbidden || judged == .private)
        await #expect(throws: DestinationPolicy.Refusal.self) { try await DestinationPolicy().check("https://[\(address)]/hook") }
        #expect(DestinationPolicy.classify(try SocketAddress(ipAddress: "2001:4860:4860::8888", port: 443)) == .public)
    }

    @Test("a delivery connects to the address that was checked; a name answering differently the second time is never asked again")
    func rebinding() async throws {
        let receiver = try await WebhookReceiver.start()
        let port = try #require(URL(string: receiver.baseURL)?.port)
        let lookups = Mutex(0)
        var policy = DestinationPolicy(requireHTTPS: false, allowLoopback: true)
        // The first answer passes the check; any later one points where nothing listens.
        policy.resolve = { _, port in
            let count = lookups.withLock { count in
                count += 1
                return count
            }
            return [try SocketAddress(ipAddress: count == 1 ? "127.0.0.1" : "127.0.0.2", port: port)]
        }
        let outbound = PinnedOutbound(policy: policy, connectionsPerHost: 1)
        var request = HTTPClientRequest(url: "http://hooks.rebind.test:\(port)/pinned")
        request.method = .POST
        request.body = .bytes(ByteBuffer(string: "{}"))
        let response = try await outbound.execute(request, timeout: .seconds(10))
        #expect(response.status == .ok)
        #expect(receiver.requests(to: "/pinned").count == 1)
        #expect(lookups.withLock { $0 } == 1)

        // An internal answer is refused before any connection is made.
        var strict = DestinationPolicy(requireHTTPS: false)
        strict.resolve = { _, port in [try SocketAddress(ipAddress: "10.1.2.3", port: port)] }
        await #expect(throws: DestinationPolicy.Refusal.forbiddenAddress("10.1.2.3")) {
            try await PinnedOutbound(policy: strict, connectionsPerHost: 1).execute(request, timeout: .seconds(5))
        }
        await outbound.shutdown()
    }

    @Test("an outbound let go without shutdown takes its clients down with it (a debug build traps on a running client's release)")
    func outboundReleased() async throws {
        let receiver = try await WebhookReceiver.shared.value()
        var outbound: PinnedOutbound? = PinnedOutbound(policy: DestinationPolicy(requireHTTPS: false, allowLoopback: true), connectionsPerHost: 1)
        var request = HTTPClientRequest(url: "\(receiver.baseURL)/released")
        request.method = .POST
        request.body = .bytes(ByteBuffer(string: "{}"))
        #expect(try await outbound?.execute(request, timeout: .seconds(10)).status == .ok)
        // Without the outbound's own shutdown on release, the client's release traps here.
        outbound = nil
        try await Task.sleep(for: .milliseconds(200))
    }

    @Test("the retry schedule spans about three days with jitter, and five days of failures disable an endpoint")
    func schedule() {
        let total = (1...9).compactMap { WebhookSchedule.delay(afterAttempt: $0, jitter: 0) }.reduce(0, +)
        #expect(total > 2.9 * 86400 && total < 3.2 * 86400)
        #expect(WebhookSchedule.delay(afterAttempt: 10) == nil)
        let jittered = WebhookSchedule.delay(afterAttempt: 2) ?? 0
        #expect(jittered >= 240 && jittered <= 360)
        let pending = PendingWebhook(
            endpoint: .v7(), url: "https://x", secrets: [], message: .v7(), body: "{}", attempts: 2,
            failingSince: Date().addingTimeInterval(-6 * 86400))
        let sender = WebhookSender(
            store: WebhookStore(database: try! TestEnvironment.database("notifications"), deliver: WebhookSender.kind()),
            outbound: PinnedOutbound(policy: DestinationPolicy(), connectionsPerHost: 1), notifications: try! makeDetachedStore(),
            members: MemberStore(database: try! TestEnvironment.database("notifications")))
        guard case .disableEndpoint = sender.decide(status: 500, retryAfter: nil, pending: pending) else {
            Issue.record("an endpoint failing for six days was not disabled")
            return
        }
    }
}

func makeDetachedStore() throws -> NotificationStore { testStore(try TestEnvironment.database("notifications")) }
