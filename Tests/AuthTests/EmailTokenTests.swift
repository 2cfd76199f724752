import Foundation
import TestSupport
import Testing

@Suite("email verification and password reset")
struct EmailTokenTests {
    @Test("sign-up requests a verification email whose token verifies the address once")
    func verifyEmail() async throws {
        let owner = try await Session.owner()
        let token = try await mailedToken("auth.verify_email", to: owner.email)
        #expect(try await auth("POST", "/v1/auth/email/verify", json: ["token": token]).status == 204)
        let me = try await auth("GET", "/v1/auth/me", token: owner.accessToken)
        #expect((me.json["user"] as? [String: Any])?["emailVerified"] as? Bool == true)
        #expect(try await auth("POST", "/v1/auth/email/verify", json: ["token": token]).status == 400)
        #expect(try await auth("POST", "/v1/auth/email/verify", json: ["nope": 1]).status == 422)
    }

    @Test("a password reset sets the new password and ends every session")
    func reset() async throws {
        let owner = try await Session.owner()
        #expect(try await auth("POST", "/v1/auth/password/forgot", json: ["email": owner.email.uppercased()]).status == 202)
        let token = try await mailedToken("auth.password_reset", to: owner.email)
        let weak = try await auth("POST", "/v1/auth/password/reset", json: ["token": token, "password": "short"])
        #expect(weak.status == 422)
        // A refused password does not spend the token.
        #expect(try await auth("POST", "/v1/auth/password/reset", json: ["token": token, "password": "a brand new passphrase"]).status == 204)
        #expect(try await refresh(owner.refreshToken).status == 401)
        #expect(try await login(owner.email, owner.password).status == 401)
        #expect(try await login(owner.email, "a brand new passphrase").status == 200)
        #expect(try await auth("POST", "/v1/auth/password/reset", json: ["token": token, "password": "another new passphrase"]).status == 400)
    }

    @Test("forgot answers 202 for an unknown address too, and 422 for a malformed one")
    func forgotDoesNotTell() async throws {
        #expect(try await auth("POST", "/v1/auth/password/forgot", json: ["email": uniqueEmail()]).status == 202)
        #expect(try await auth("POST", "/v1/auth/password/forgot", json: ["email": "not an email"]).status == 422)
    }
}
