import Contracts
import Foundation
import Messaging
import TestSupport
import Testing

/// Publishes a membership change on auth.membership.v1, as auth would, and waits until the
/// tasks service has taken it in (`ready` says how to tell).
func announceMember(_ tenant: UUID, _ user: UUID, removed: Bool = false, version: Int? = nil) async throws {
    let producer = try KafkaProducer(brokers: TestEnvironment.kafkaBrokers, clientID: "tasks-tests", logger: TestEnvironment.logger)
    let event = try EventEnvelope.make(
        MembershipEvent(
            tenantId: tenant, userId: user, email: "\(user.uuidString.prefix(8))@example.com", name: "Member", role: "member",
            version: version ?? Int(Date().timeIntervalSince1970 * 1000), occurredAt: Date()),
        type: removed ? MembershipEvent.removed : MembershipEvent.added, on: Topics.authMembership, source: "/tests", tenantID: tenant)
    try await producer.send(OutgoingMessage(topic: event.topic, key: event.key, value: Array(event.data), headers: event.headers))
    await producer.shutdown()
}

extension Caller {
    /// A member of this caller's tenant, known to the tasks service.
    func member() async throws -> UUID {
        let user = UUID.v7()
        try await announceMember(tenant, user)
        // Through Kafka: in a whole-suite run the consumer may take a while to join its group.
        let known = try await eventually(timeout: .seconds(60)) {
            let probe = try await send("POST", "/v1/tasks", json: ["title": "probe", "assigneeId": user.uuidString])
            guard probe.status == 201, let id = probe.string("id") else { return false }
            _ = try await send("DELETE", "/v1/tasks/\(id)")
            return true
        }
        guard known else { throw TaskTestError.status(0, "membership never arrived") }
        return user
    }
}

@Suite("task assignees")
struct MembershipTests {
    @Test("only a member of the tenant can be assigned; a removed member's open tasks lose their assignee")
    func members() async throws {
        let caller = try await Caller.fresh()
        let stranger = UUID.v7()
        let refused = try await caller.send("POST", "/v1/tasks", json: ["title": "x", "assigneeId": stranger.uuidString])
        #expect(refused.status == 422)
        #expect(String(decoding: refused.body, as: UTF8.self).contains("assigneeId"))
        let member = try await caller.member()
        let open = try await caller.id(["title": "open", "assigneeId": member.uuidString])
        let done = try await caller.id(["title": "done", "assigneeId": member.uuidString, "status": "done"])
        // A member of another tenant is not a member here.
        let other = try await Caller.fresh()
        #expect(try await other.send("POST", "/v1/tasks", json: ["title": "x", "assigneeId": member.uuidString]).status == 422)
        try await announceMember(caller.tenant, member, removed: true)
        let unassigned = try await eventually { try await caller.send("GET", "/v1/tasks/\(open)").json["assigneeId"] == nil }
        #expect(unassigned)
        #expect(try await caller.send("GET", "/v1/tasks/\(done)").json["assigneeId"] as? String != nil)
        #expect(try await caller.send("PATCH", "/v1/tasks/\(open)", json: ["assigneeId": member.uuidString]).status == 422)
    }

    @Test("an older membership event does not undo a newer one")
    func versions() async throws {
        let caller = try await Caller.fresh()
        let member = try await caller.member()
        try await announceMember(caller.tenant, member, removed: true, version: 1)
        try await Task.sleep(for: .seconds(1))
        #expect(try await caller.send("POST", "/v1/tasks", json: ["title": "x", "assigneeId": member.uuidString]).status == 201)
    }
}
