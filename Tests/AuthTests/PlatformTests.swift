import Foundation
import TestSupport
import Testing

@Suite("platform operator API")
struct PlatformTests {
    @Test("the operator created at start-up holds platform:admin in the platform tenant")
    func operatorScope() async throws {
        let token = try await operatorToken()
        let me = try await auth("GET", "/v1/auth/me", token: token)
        #expect(me.json["scopes"] as? [String] == ["platform:admin"])
    }

    @Test("operators create, find and read tenants")
    func createAndList() async throws {
        let token = try await operatorToken()
        let slug = "corp-\(UUID().uuidString.prefix(8).lowercased())"
        let created = try await auth("POST", "/v1/platform/tenants", json: ["name": "Big Corp", "slug": slug, "plan": "enterprise"], token: token)
        #expect(created.status == 201)
        #expect(created.string("plan") == "enterprise")
        let id = try #require(created.string("id"))
        let found = try await auth("GET", "/v1/platform/tenants?q=\(slug)", token: token)
        #expect((found.json["items"] as? [[String: Any]])?.map { $0["slug"] as? String } == [slug])
        #expect(try await auth("GET", "/v1/platform/tenants/\(id)", token: token).string("slug") == slug)
        #expect(try await auth("GET", "/v1/platform/tenants/\(UUID())", token: token).status == 404)
        #expect(try await auth("POST", "/v1/platform/tenants", json: ["name": "Dup", "slug": slug], token: token).status == 409)
    }

    @Test("a suspended tenant can neither log in nor refresh; reactivation restores both; both are announced on auth.tenant.v1")
    func suspension() async throws {
        let token = try await operatorToken()
        let owner = try await Session.owner()
        let suspended = try await auth("PATCH", "/v1/platform/tenants/\(owner.tenantID)", json: ["status": "suspended"], token: token)
        #expect(suspended.status == 200)
        #expect(try await login(owner.email, owner.password).status == 403)
        #expect(try await refresh(owner.refreshToken).status == 403)
        #expect(
            try await auth("PATCH", "/v1/platform/tenants/\(owner.tenantID)", json: ["status": "active", "plan": "pro"], token: token).status == 200)
        #expect(try await login(owner.email, owner.password).status == 200)
        let events = try await withDatabase("auth") { database in
            try await database.client.query(
                "SELECT event_type FROM auth.outbox WHERE topic = 'auth.tenant.v1' AND message_key = \(owner.tenantID) ORDER BY id",
                logger: database.logger
            ).decode(String.self).reduce(into: [String]()) { $0.append($1) }
        }
        #expect(events == ["auth.tenant.created", "auth.tenant.suspended", "auth.tenant.reactivated"])
        #expect(try await auth("GET", "/v1/admin/tenant", token: owner.accessToken).string("plan") == "pro")
    }

    @Test("a tenant owner gets 403; bad status, plan or slug get 422")
    func refusals() async throws {
        let owner = try await Session.owner()
        #expect(try await auth("GET", "/v1/platform/tenants", token: owner.accessToken).status == 403)
        #expect(try await auth("PATCH", "/v1/platform/tenants/\(owner.tenantID)", json: ["status": "active"], token: owner.accessToken).status == 403)
        let token = try await operatorToken()
        #expect(try await auth("PATCH", "/v1/platform/tenants/\(owner.tenantID)", json: ["status": "paused"], token: token).status == 422)
        #expect(try await auth("PATCH", "/v1/platform/tenants/\(owner.tenantID)", json: ["plan": "gold"], token: token).status == 422)
        #expect(try await auth("POST", "/v1/platform/tenants", json: ["name": "X", "slug": "-bad-"], token: token).status == 422)
        #expect(try await auth("GET", "/v1/platform/tenants?status=zombie", token: token).status == 422)
    }
}
