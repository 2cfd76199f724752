import AsyncHTTPClient
import Contracts
import Foundation
import NIOCore
import ServiceKit
import TestSupport
import Testing

@testable import Notifications

@Suite("in-app inbox")
struct InboxTests {
    @Test("the inbox lists newest first, filters unread, counts unread, and marks read, archived and all read")
    func readingAndArchiving() async throws {
        let tenant = UUID.v7()
        let user = UUID.v7()
        for title in ["First", "Second", "Third"] {
            try await accept(request(tenant: tenant, user: user, data: ["title": title, "taskId": "t"], channels: ["in_app"]))
        }
        let list = try await call("GET", "/v1/notifications", tenant: tenant, user: user)
        #expect(inboxTitles(list) == ["Reminder: Third", "Reminder: Second", "Reminder: First"])
        let ids = (list.json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(try await call("GET", "/v1/notifications/unread-count", tenant: tenant, user: user).json["count"] as? Int == 3)

        let read = try await call("POST", "/v1/notifications/\(ids[0])/read", tenant: tenant, user: user)
        #expect(read.status == 200)
        #expect(read.json["readAt"] != nil)
        #expect(
            inboxTitles(try await call("GET", "/v1/notifications?unread=true", tenant: tenant, user: user)) == [
                "Reminder: Second", "Reminder: First",
            ])

        #expect(try await call("POST", "/v1/notifications/\(ids[1])/archive", tenant: tenant, user: user).status == 200)
        #expect(inboxTitles(try await call("GET", "/v1/notifications", tenant: tenant, user: user)) == ["Reminder: Third", "Reminder: First"])
        #expect(inboxTitles(try await call("GET", "/v1/notifications?archived=true", tenant: tenant, user: user)) == ["Reminder: Second"])

        #expect(try await call("POST", "/v1/notifications/read-all", tenant: tenant, user: user).json["updated"] as? Int == 1)
        #expect(try await call("GET", "/v1/notifications/unread-count", tenant: tenant, user: user).json["count"] as? Int == 0)
    }

    @Test("an inbox notification is announced delivered when stored and opened when first read, once")
    func inboxOutcomes() async throws {
        let tenant = UUID.v7()
        let user = UUID.v7()
        let key = "inbox-\(UUID().uuidString)"
        try await accept(request(tenant: tenant, user: user, channels: ["in_app"], key: key))
        let id = try #require(
            (try await call("GET", "/v1/notifications", tenant: tenant, user: user).json["items"] as? [[String: Any]])?.first?["id"] as? String)
        #expect(try await call("POST", "/v1/notifications/\(id)/read", tenant: tenant, user: user).status == 200)
        #expect(try await call("POST", "/v1/notifications/\(id)/read", tenant: tenant, user: user).status == 200)
        #expect(try await call("POST", "/v1/notifications/read-all", tenant: tenant, user: user).json["updated"] as? Int == 0)
        let states = try await Self.announced(key: key, tenant: tenant).filter { $0.channel == "in_app" }.map(\.state)
        #expect(states == ["delivered", "opened"])
    }

    /// The outcomes written to the outbox for one request, in order.
    static func announced(key: String, tenant: UUID) async throws -> [NotificationDelivery] {
        try await withDatabase("notifications") { database in
            var outcomes: [NotificationDelivery] = []
            let rows = try await database.client.query(
                "SELECT convert_from(payload, 'UTF8') FROM notifications.outbox WHERE tenant_id = \(tenant) AND event_type = 'notifications.delivery' ORDER BY id",
                logger: database.logger)
            for try await (payload, ) in rows.decode((String,).self) {
                if let outcome = try? PlatformJSON.decoder.decode(NotificationDelivery.self, from: Data(payload.utf8)), outcome.idempotencyKey == key
                {
                    outcomes.append(outcome)
                }
            }
            return outcomes
        }
    }

    @Test("pages follow the cursor without repeats")
    func paging() async throws {
        let tenant = UUID.v7()
        let user = UUID.v7()
        for index in 0..<5 {
            try await accept(request(tenant: tenant, user: user, data: ["title": "N\(index)", "taskId": "t"], channels: ["in_app"]))
        }
        let first = try await call("GET", "/v1/notifications?limit=3", tenant: tenant, user: user)
        #expect(inboxTitles(first) == ["Reminder: N4", "Reminder: N3", "Reminder: N2"])
        let cursor = try #require(first.string("nextCursor"))
        let second = try await call("GET", "/v1/notifications?limit=3&cursor=\(cursor)", tenant: tenant, user: user)
        #expect(inboxTitles(second) == ["Reminder: N1", "Reminder: N0"])
        #expect(second.json["nextCursor"] == nil || second.json["nextCursor"] is NSNull)
    }

    @Test("another user's or another tenant's notification is 404, and their inboxes stay apart")
    func isolation() async throws {
        let tenant = UUID.v7()
        let user = UUID.v7()
        try await accept(request(tenant: tenant, user: user, data: ["title": "Mine", "taskId": "t"], channels: ["in_app"]))
        let id = try #require(
            (try await call("GET", "/v1/notifications", tenant: tenant, user: user).json["items"] as? [[String: Any]])?.first?["id"] as? String)
        #expect(try await call("POST", "/v1/notifications/\(id)/read", tenant: tenant, user: .v7()).status == 404)
        #expect(try await call("POST", "/v1/notifications/\(id)/archive", tenant: .v7(), user: user).status == 404)
        #expect(inboxTitles(try await call("GET", "/v1/notifications", tenant: .v7(), user: user)).isEmpty)
        #expect(inboxTitles(try await call("GET", "/v1/notifications", tenant: tenant, user: .v7())).isEmpty)
        #expect(try await call("GET", "/v1/notifications/unread-count", tenant: tenant, user: user).json["count"] as? Int == 1)
    }

    @Test("bad input is a problem response")
    func badInput() async throws {
        let tenant = UUID.v7()
        let flag = try await call("GET", "/v1/notifications?unread=maybe", tenant: tenant)
        #expect(flag.status == 422)
        #expect(flag.contentType.hasPrefix("application/problem+json"))
        #expect(try await call("GET", "/v1/notifications?limit=1000", tenant: tenant).status == 422)
        #expect(try await call("GET", "/v1/notifications?cursor=garbage", tenant: tenant).status == 400)
        #expect(try await call("POST", "/v1/notifications/not-a-uuid/read", tenant: tenant).status == 404)
        #expect(try await call("GET", "/v1/notifications/stream", tenant: tenant, headers: ["Last-Event-ID": "-3"]).status == 400)
        let (url, _) = try await NotificationsServer.shared.get()
        #expect(try await TestHTTP.send("GET", "\(url)/v1/notifications").status == 401)
    }

    @Test("the stream sends new notifications as they arrive, and a reconnect with Last-Event-ID gets what it missed")
    func stream() async throws {
        let tenant = UUID.v7()
        let user = UUID.v7()
        let (url, issuer) = try await NotificationsServer.shared.get()
        let token = try await issuer.token(tenant: tenant, subject: user, roles: ["member"])
        try await accept(request(tenant: tenant, user: user, data: ["title": "Before", "taskId": "t"], channels: ["in_app"]))

        var live = HTTPClientRequest(url: "\(url)/v1/notifications/stream")
        live.headers.add(name: "Authorization", value: "Bearer \(token)")
        let response = try await TestHTTP.wide.execute(live, timeout: .seconds(30))
        #expect(response.headers.first(name: "content-type") == "text/event-stream")
        let events = Recorder<String>()
        let reading = Task {
            for try await chunk in response.body { events.append(String(buffer: chunk)) }
        }
        defer { reading.cancel() }
        try await Task.sleep(for: .milliseconds(300))
        try await accept(request(tenant: tenant, user: user, data: ["title": "Live one", "taskId": "t"], channels: ["in_app"]))
        #expect(try await eventually(timeout: .seconds(10)) { events.all.joined().contains("Reminder: Live one") })
        // A stream opened without Last-Event-ID starts at "now": the earlier one is not replayed.
        #expect(!events.all.joined().contains("Reminder: Before"))
        let sequence = try #require(events.all.joined().split(separator: "\n").first { $0.hasPrefix("id: ") }.map { String($0.dropFirst(4)) })

        try await accept(request(tenant: tenant, user: user, data: ["title": "While away", "taskId": "t"], channels: ["in_app"]))
        var resumed = HTTPClientRequest(url: "\(url)/v1/notifications/stream")
        resumed.headers.add(name: "Authorization", value: "Bearer \(token)")
        resumed.headers.add(name: "Last-Event-ID", value: sequence)
        let again = try await TestHTTP.wide.execute(resumed, timeout: .seconds(30))
        var text = ""
        for try await chunk in again.body {
            text += String(buffer: chunk)
            if text.contains("Reminder: While away") { break }
        }
        #expect(text.contains("Reminder: While away"))
        #expect(!text.contains("Reminder: Live one"))
    }

    @Test("a user may hold five streams open; a sixth answers 429 while another user is still served")
    func streamsCapped() async throws {
        let tenant = UUID.v7()
        let user = UUID.v7()
        let (url, issuer) = try await NotificationsServer.shared.get()
        func open(_ subject: UUID) async throws -> HTTPClientResponse {
            var request = HTTPClientRequest(url: "\(url)/v1/notifications/stream")
            request.headers.add(name: "Authorization", value: "Bearer \(try await issuer.token(tenant: tenant, subject: subject, roles: ["member"]))")
            return try await TestHTTP.wide.execute(request, timeout: .seconds(30))
        }
        var readers: [Task<Void, any Error>] = []
        defer { readers.forEach { $0.cancel() } }
        for _ in 0..<5 {
            let response = try await open(user)
            #expect(response.status == .ok)
            readers.append(Task { for try await _ in response.body {} })
        }
        let sixth = try await open(user)
        #expect(sixth.status == .tooManyRequests)
        #expect(sixth.headers.first(name: "retry-after") == "30")
        let other = try await open(.v7())
        #expect(other.status == .ok)
        readers.append(Task { for try await _ in other.body {} })
    }

    @Test("a browser opens its stream with a single-use ticket: once, within 30 s, for its own user only")
    func streamTickets() async throws {
        let tenant = UUID.v7()
        let user = UUID.v7()
        let (url, issuer) = try await NotificationsServer.shared.get()
        let token = try await issuer.token(tenant: tenant, subject: user, roles: ["member"])
        let issued = try await TestHTTP.send("POST", "\(url)/v1/notifications/stream-tickets", token: token)
        #expect(issued.status == 201)
        #expect(issued.json["expiresIn"] as? Int == 30)
        #expect(issued.headers["cache-control"] == "no-store")
        let ticket = try #require(issued.string("ticket"))

        try await accept(request(tenant: tenant, user: user, data: ["title": "Ticketed", "taskId": "t"], channels: ["in_app"]))
        var open = HTTPClientRequest(url: "\(url)/v1/notifications/stream?ticket=\(ticket)")
        open.headers.add(name: "Last-Event-ID", value: "0")
        let response = try await TestHTTP.wide.execute(open, timeout: .seconds(30))
        #expect(response.status == .ok)
        var text = ""
        for try await chunk in response.body {
            text += String(buffer: chunk)
            if text.contains("Reminder: Ticketed") { break }
        }
        #expect(text.contains("Reminder: Ticketed"))

        // Used once; an expired or made-up one is refused alike.
        #expect(try await TestHTTP.send("GET", "\(url)/v1/notifications/stream?ticket=\(ticket)").status == 401)
        let stale = try #require(try await TestHTTP.send("POST", "\(url)/v1/notifications/stream-tickets", token: token).string("ticket"))
        try await withDatabase("notifications") { database in
            _ = try await database.client.query(
                "UPDATE notifications.stream_tickets SET expires_at = now() - interval '1 second' WHERE ticket_hash = \(OpaqueToken.hash(stale))",
                logger: database.logger)
        }
        let expired = try await TestHTTP.send("GET", "\(url)/v1/notifications/stream?ticket=\(stale)")
        #expect(expired.status == 401)
        #expect(expired.contentType == "application/problem+json")
        #expect(try await TestHTTP.send("GET", "\(url)/v1/notifications/stream?ticket=stk_made-up").status == 401)
        #expect(try await TestHTTP.send("GET", "\(url)/v1/notifications/stream").status == 401)
        // API clients have no inbox, so no tickets.
        let client = try await issuer.clientToken(tenant: tenant, scope: "notifications:read")
        #expect(try await TestHTTP.send("POST", "\(url)/v1/notifications/stream-tickets", token: client).status == 403)
    }
}
