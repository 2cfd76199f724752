import Contracts
import Foundation
import TestSupport
import Testing

@Suite("invitations")
struct InvitationTests {
    @Test("an invited new user joins with the invited role and the invitation cannot be used twice")
    func newUser() async throws {
        let owner = try await Session.owner()
        let email = uniqueEmail()
        #expect(try await auth("POST", "/v1/admin/invitations", json: ["email": email, "role": "admin"], token: owner.accessToken).status == 201)
        let token = try await mailedToken("auth.invitation", to: email)
        let weak = try await auth("POST", "/v1/auth/invitations/accept", json: ["token": token, "name": "Grace", "password": "short"])
        #expect(weak.status == 422)
        let accepted = try await auth(
            "POST", "/v1/auth/invitations/accept", json: ["token": token, "name": "Grace", "password": "another good passphrase"])
        #expect(accepted.status == 200)
        #expect(accepted.json["roles"] as? [String] == ["admin"])
        #expect((accepted.json["tenant"] as? [String: Any])?["id"] as? String == owner.tenantID)
        #expect(
            try await auth("POST", "/v1/auth/invitations/accept", json: ["token": token, "name": "Grace", "password": "another good passphrase"])
                .status == 400)
        let listed = try await auth("GET", "/v1/admin/invitations", token: owner.accessToken)
        #expect((listed.json["items"] as? [[String: Any]])?.first?["status"] as? String == "accepted")
    }

    @Test("an existing user accepts with their password, then login asks which tenant (409) and honours the choice")
    func existingUser() async throws {
        let owner = try await Session.owner()
        let other = try await Session.owner()
        #expect(
            try await auth("POST", "/v1/admin/invitations", json: ["email": other.email, "role": "member"], token: owner.accessToken).status == 201)
        let token = try await mailedToken("auth.invitation", to: other.email)
        #expect(try await auth("POST", "/v1/auth/invitations/accept", json: ["token": token, "password": "wrong password!!"]).status == 401)
        #expect(try await auth("POST", "/v1/auth/invitations/accept", json: ["token": token, "password": other.password]).status == 200)
        let ambiguous = try await login(other.email, other.password)
        #expect(ambiguous.status == 409)
        let slugs = Set((ambiguous.json["errors"] as? [[String: String]] ?? []).compactMap { $0["message"] })
        #expect(slugs == [owner.tenantSlug, other.tenantSlug])
        let chosen = try await login(other.email, other.password, tenant: owner.tenantSlug)
        #expect(chosen.status == 200)
        #expect(chosen.json["roles"] as? [String] == ["member"])
    }

    @Test("a revoked invitation cannot be accepted; inviting a member or a malformed address is refused")
    func refusals() async throws {
        let owner = try await Session.owner()
        let email = uniqueEmail()
        let invited = try await auth("POST", "/v1/admin/invitations", json: ["email": email, "role": "member"], token: owner.accessToken)
        let token = try await mailedToken("auth.invitation", to: email)
        #expect(try await auth("DELETE", "/v1/admin/invitations/\(try #require(invited.string("id")))", token: owner.accessToken).status == 204)
        #expect(
            try await auth("POST", "/v1/auth/invitations/accept", json: ["token": token, "name": "X", "password": "another good passphrase"]).status
                == 400)
        #expect(
            try await auth("POST", "/v1/admin/invitations", json: ["email": owner.email, "role": "member"], token: owner.accessToken).status == 409)
        let bad = try await auth("POST", "/v1/admin/invitations", json: ["email": "nope", "role": "king"], token: owner.accessToken)
        #expect(bad.status == 422)
        #expect(Set((bad.json["errors"] as? [[String: String]] ?? []).compactMap { $0["field"] }) == ["email", "role"])
        #expect(try await auth("POST", "/v1/auth/invitations/accept", json: ["token": "garbage"]).status == 400)
    }

    @Test("only owners invite owners")
    func ownerInvites() async throws {
        let owner = try await Session.owner()
        let admin = try await addMember(to: owner, role: "admin")
        #expect(
            try await auth("POST", "/v1/admin/invitations", json: ["email": uniqueEmail(), "role": "owner"], token: admin.accessToken).status == 403)
        #expect(
            try await auth("POST", "/v1/admin/invitations", json: ["email": uniqueEmail(), "role": "owner"], token: owner.accessToken).status == 201)
    }

    @Test("the invitation email request reaches notifications.request.v1 on the broker")
    func onTheTopic() async throws {
        let reader = try TopicReader(topic: Topics.notificationsRequest.name)
        let owner = try await Session.owner()
        let email = uniqueEmail()
        #expect(try await auth("POST", "/v1/admin/invitations", json: ["email": email, "role": "member"], token: owner.accessToken).status == 201)
        let message = try await reader.first(timeout: .seconds(40)) { message in
            guard let request = try? PlatformJSON.decoder.decode(NotificationRequest.self, from: Data(message.value)) else { return false }
            return request.recipient.email == email && request.templateKey == "auth.invitation"
        }
        await reader.close()
        let found = try #require(message)
        #expect(found.headers["ce_type"] == NotificationRequest.type)
        #expect(found.key == owner.tenantID)
    }
}
