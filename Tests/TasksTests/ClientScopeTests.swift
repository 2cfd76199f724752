import Foundation
import TestSupport
import Testing

@testable import Tasks

/// API clients reach a route group only with the scope the table names; user tokens go
/// by their roles.
@Suite("API client scopes")
struct ClientScopeTests {
    @Test("every route group refuses a client without its scope, and serves reads to one with it", arguments: ClientAccess.table.map(\.route))
    func table(_ route: String) async throws {
        let scopes = try #require(ClientAccess.table.first { $0.route == route }?.scopes)
        let parts = route.split(separator: " ").map(String.init)
        let stranger = try await Caller.client(scope: "photos:read photos:write")
        #expect(try await stranger.send(parts[0], parts[1]).status == 403)
        let holder = try await Caller.client(scope: scopes.read ?? "tasks:read tasks:write search:read")
        let answer = try await holder.send(parts[0], parts[1])
        #expect(answer.status == (scopes.read == nil ? 403 : 200))
        #expect(answer.status != 403 || answer.contentType == "application/problem+json")
    }

    @Test("tasks:read reads but cannot write; tasks:write writes; neither administers")
    func readAndWrite() async throws {
        let reader = try await Caller.client(scope: "tasks:read")
        #expect(try await reader.send("GET", "/v1/tasks").status == 200)
        let refused = try await reader.send("POST", "/v1/tasks", json: ["title": "from a reader"])
        #expect(refused.status == 403)
        #expect(String(decoding: refused.body, as: UTF8.self).contains("tasks:write"))

        let writer = try await Caller.client(scope: "tasks:write")
        let created = try await writer.send("POST", "/v1/tasks", json: ["title": "from a sync job"])
        #expect(created.status == 201)
        #expect(try await writer.send("GET", "/v1/tasks").items.count == 1)
        #expect(try await writer.send("GET", "/v1/admin/jobs").status == 403)
    }
}
