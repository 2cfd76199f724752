import Foundation
import TestSupport
import Testing

@Suite("tenant admin console")
struct AdminTests {
    @Test("an owner reads and renames the tenant and sets redirect URIs")
    func tenantSettings() async throws {
        let owner = try await Session.owner()
        let tenant = try await auth("GET", "/v1/admin/tenant", token: owner.accessToken)
        #expect(tenant.status == 200)
        #expect(tenant.string("plan") == "free")
        #expect((tenant.json["limits"] as? [String: Any])?["maxMembers"] as? Int == 5)
        let slug = "acme-\(UUID().uuidString.prefix(8).lowercased())"
        let patched = try await auth("PATCH", "/v1/admin/tenant", json: ["name": "Acme Renamed", "slug": slug], token: owner.accessToken)
        #expect(patched.status == 200)
        #expect(patched.string("slug") == slug)
        #expect(patched.string("name") == "Acme Renamed")
    }

    @Test("social-login redirect URIs are set by platform operators only: an owner cannot point members' codes at a host of theirs")
    func redirectURIsAreOperators() async throws {
        let owner = try await Session.owner()
        let theft = try await auth(
            "PATCH", "/v1/admin/tenant", json: ["settings": ["allowedRedirectUris": ["https://evil.example.com/cb"]]], token: owner.accessToken)
        #expect(theft.status == 403)
        #expect(theft.contentType == "application/problem+json")
        #expect(
            (try await auth("GET", "/v1/admin/tenant", token: owner.accessToken).json["settings"] as? [String: Any])?["allowedRedirectUris"]
                as? [String] == [])
        let set = try await auth(
            "PATCH", "/v1/platform/tenants/\(owner.tenantID)", json: ["settings": ["allowedRedirectUris": ["https://app.example.com/callback"]]],
            token: try await operatorToken())
        #expect(set.status == 200)
        #expect((set.json["settings"] as? [String: Any])?["allowedRedirectUris"] as? [String] == ["https://app.example.com/callback"])
        // Sending the settings unchanged with other changes is fine.
        let same = try await auth(
            "PATCH", "/v1/admin/tenant", json: ["name": "Same", "settings": ["allowedRedirectUris": ["https://app.example.com/callback"]]],
            token: owner.accessToken)
        #expect(same.status == 200)
    }

    @Test("a bad slug, a reserved slug, a taken slug and (from an operator) a non-https redirect URI are refused")
    func tenantBadInput() async throws {
        let owner = try await Session.owner()
        let other = try await Session.owner()
        #expect(try await auth("PATCH", "/v1/admin/tenant", json: ["slug": "No Spaces"], token: owner.accessToken).status == 422)
        #expect(try await auth("PATCH", "/v1/admin/tenant", json: ["slug": "platform"], token: owner.accessToken).status == 422)
        #expect(try await auth("PATCH", "/v1/admin/tenant", json: ["slug": other.tenantSlug], token: owner.accessToken).status == 409)
        let uri = try await auth(
            "PATCH", "/v1/platform/tenants/\(owner.tenantID)", json: ["settings": ["allowedRedirectUris": ["http://evil.example.com/cb"]]],
            token: try await operatorToken())
        #expect(uri.status == 422)
        #expect(try await auth("PATCH", "/v1/admin/tenant", json: ["name": 5], token: owner.accessToken).status == 422)
    }

    @Test("a member gets 403 problem details on every admin route, and the refusal is audited")
    func memberForbidden() async throws {
        let owner = try await Session.owner()
        let member = try await addMember(to: owner)
        for (method, path) in [
            ("GET", "/v1/admin/tenant"), ("GET", "/v1/admin/members"), ("GET", "/v1/admin/invitations"), ("GET", "/v1/admin/api-clients"),
            ("GET", "/v1/admin/audit-log"), ("DELETE", "/v1/admin/members/\(owner.userID)"),
        ] {
            let answer = try await auth(method, path, token: member.accessToken)
            #expect(answer.status == 403, "\(method) \(path)")
            #expect(answer.contentType == "application/problem+json")
        }
        let log = try await auth("GET", "/v1/admin/audit-log", token: owner.accessToken)
        #expect((log.json["items"] as? [[String: Any]] ?? []).contains { $0["result"] as? String == "denied" })
    }

    @Test("members are listed with cursor pagination")
    func listMembers() async throws {
        let owner = try await Session.owner()
        _ = try await addMember(to: owner)
        _ = try await addMember(to: owner, role: "viewer")
        let first = try await auth("GET", "/v1/admin/members?limit=2", token: owner.accessToken)
        #expect((first.json["items"] as? [Any])?.count == 2)
        let cursor = try #require(first.string("nextCursor"))
        let second = try await auth("GET", "/v1/admin/members?limit=2&cursor=\(cursor)", token: owner.accessToken)
        #expect((second.json["items"] as? [Any])?.count == 1)
        #expect(try await auth("GET", "/v1/admin/members?limit=0", token: owner.accessToken).status == 422)
        #expect(try await auth("GET", "/v1/admin/members?cursor=%%%", token: owner.accessToken).status == 400)
    }

    @Test("an admin cannot grant owner; the last owner cannot be demoted; an owner can hand over ownership")
    func ownerRules() async throws {
        let owner = try await Session.owner()
        let admin = try await addMember(to: owner, role: "admin")
        let member = try await addMember(to: owner)
        #expect(try await auth("PATCH", "/v1/admin/members/\(member.userID)", json: ["role": "owner"], token: admin.accessToken).status == 403)
        #expect(try await auth("PATCH", "/v1/admin/members/\(owner.userID)", json: ["role": "member"], token: admin.accessToken).status == 403)
        #expect(try await auth("PATCH", "/v1/admin/members/\(owner.userID)", json: ["role": "admin"], token: owner.accessToken).status == 409)
        #expect(try await auth("DELETE", "/v1/admin/members/\(owner.userID)", token: owner.accessToken).status == 409)
        // The refused role changes are in the audit log as denied.
        let log = try await auth("GET", "/v1/admin/audit-log", token: owner.accessToken)
        let denied = (log.json["items"] as? [[String: Any]] ?? []).filter {
            $0["result"] as? String == "denied" && $0["target"] as? String == "user:\(owner.userID)"
        }
        #expect(denied.count >= 3)
        #expect(try await auth("PATCH", "/v1/admin/members/\(member.userID)", json: ["role": "viewer"], token: admin.accessToken).status == 200)
        #expect(try await auth("PATCH", "/v1/admin/members/\(member.userID)", json: ["role": "boss"], token: owner.accessToken).status == 422)
        #expect(try await auth("PATCH", "/v1/admin/members/\(admin.userID)", json: ["role": "owner"], token: owner.accessToken).status == 200)
        #expect(try await auth("PATCH", "/v1/admin/members/\(owner.userID)", json: ["role": "member"], token: owner.accessToken).status == 200)
    }

    @Test("removing a member revokes their sessions in this tenant and emits auth.membership.removed")
    func removeMember() async throws {
        let owner = try await Session.owner()
        let member = try await addMember(to: owner)
        #expect(try await auth("DELETE", "/v1/admin/members/\(member.userID)", token: owner.accessToken).status == 204)
        #expect(try await refresh(member.refreshToken).status == 401)
        let types = try await withDatabase("auth") { database in
            try await database.client.query(
                "SELECT event_type FROM auth.outbox WHERE topic = 'auth.membership.v1' AND message_key = \(owner.tenantID + "/" + member.userID) ORDER BY id",
                logger: database.logger
            ).decode(String.self).reduce(into: [String]()) { $0.append($1) }
        }
        #expect(types == ["auth.membership.added", "auth.membership.removed"])
    }

    @Test("another tenant's member, invitation or API client answers 404")
    func crossTenant() async throws {
        let owner = try await Session.owner()
        let stranger = try await Session.owner()
        let invitation = try await auth(
            "POST", "/v1/admin/invitations", json: ["email": uniqueEmail(), "role": "member"], token: stranger.accessToken)
        let client = try await auth("POST", "/v1/admin/api-clients", json: ["name": "ci", "scopes": ["tasks:read"]], token: stranger.accessToken)
        let invitationID = try #require(invitation.string("id"))
        let clientID = try #require(client.string("id"))
        #expect(try await auth("PATCH", "/v1/admin/members/\(stranger.userID)", json: ["role": "member"], token: owner.accessToken).status == 404)
        #expect(try await auth("DELETE", "/v1/admin/members/\(stranger.userID)", token: owner.accessToken).status == 404)
        #expect(try await auth("DELETE", "/v1/admin/invitations/\(invitationID)", token: owner.accessToken).status == 404)
        #expect(try await auth("DELETE", "/v1/admin/api-clients/\(clientID)", token: owner.accessToken).status == 404)
        #expect(try await auth("DELETE", "/v1/admin/api-clients/not-a-uuid", token: owner.accessToken).status == 404)
        // And the stranger's things are untouched.
        #expect(try await auth("DELETE", "/v1/admin/invitations/\(invitationID)", token: stranger.accessToken).status == 204)
    }

    @Test("the audit log is filterable by action and time, paginated, and append-only in the database")
    func auditLog() async throws {
        let owner = try await Session.owner()
        for _ in 0..<3 {
            _ = try await auth("POST", "/v1/admin/invitations", json: ["email": uniqueEmail(), "role": "member"], token: owner.accessToken)
        }
        let page = try await auth("GET", "/v1/admin/audit-log?action=invitation.created&limit=2", token: owner.accessToken)
        #expect((page.json["items"] as? [[String: Any]])?.count == 2)
        let next = try #require(page.string("nextCursor"))
        let rest = try await auth("GET", "/v1/admin/audit-log?action=invitation.created&limit=2&cursor=\(next)", token: owner.accessToken)
        #expect((rest.json["items"] as? [[String: Any]])?.count == 1)
        let future = try await auth("GET", "/v1/admin/audit-log?since=2999-01-01T00:00:00Z", token: owner.accessToken)
        #expect((future.json["items"] as? [Any])?.isEmpty == true)
        #expect(try await auth("GET", "/v1/admin/audit-log?since=yesterday", token: owner.accessToken).status == 422)
        let tenant = try #require(UUID(uuidString: owner.tenantID))
        await #expect(throws: (any Error).self) {
            try await withDatabase("auth") { database in
                try await database.withTenant(tenant) { connection in
                    try await connection.query("DELETE FROM auth.audit_log", logger: database.logger)
                }
            }
        }
    }
}
