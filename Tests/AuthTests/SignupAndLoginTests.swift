import Foundation
import Persistence
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import Auth

@Suite("sign-up and login")
struct SignupAndLoginTests {
    @Test("sign-up creates a user, a tenant with the user as owner, and verifiable tokens")
    func signup() async throws {
        let answer = try await signUp()
        #expect(answer.status == 201)
        #expect(answer.string("tokenType") == "Bearer")
        let base = try await AuthServer.shared.url()
        let verifier = TokenVerifier(
            jwksURL: "\(base)/.well-known/jwks.json", issuer: TestEnvironment.issuer,
            audience: TestEnvironment.audience, logger: TestEnvironment.logger)
        let identity = try await verifier.verify(try #require(answer.string("accessToken")))
        #expect(identity.roles == ["owner"])
        let tenant = try #require(answer.json["tenant"] as? [String: Any])
        #expect(UUID(uuidString: tenant["id"] as? String ?? "") == identity.tenantID)
        let me = try await TestHTTP.send("GET", "\(base)/v1/auth/me", token: answer.string("accessToken"))
        #expect(me.status == 200)
        #expect((me.json["roles"] as? [String]) == ["owner"])
    }

    @Test("a fresh access token's iat and exp are whole seconds, and it verifies in the second it was issued")
    func wholeSecondDates() async throws {
        let token = try #require(try await signUp().string("accessToken"))
        let dates = try numericDates(token)
        #expect(dates["iat"] != nil && dates["exp"] != nil)
        for (name, text) in dates {
            let whole = text.allSatisfy { $0.isNumber }
            #expect(whole, "\(name) is \(text)")
        }
        let base = try await AuthServer.shared.url()
        let verifier = TokenVerifier(
            jwksURL: "\(base)/.well-known/jwks.json", issuer: TestEnvironment.issuer,
            audience: TestEnvironment.audience, logger: TestEnvironment.logger)
        _ = try await verifier.verify(token)
    }

    @Test("sign-up writes the tenant, user and membership events and a verification email request to the outbox")
    func signupEvents() async throws {
        let answer = try await signUp()
        let tenant = try #require((answer.json["tenant"] as? [String: Any])?["id"] as? String)
        let types = try await withDatabase("auth") { database in
            try await database.client.query(
                "SELECT event_type FROM auth.outbox WHERE tenant_id = \(try #require(UUID(uuidString: tenant))) ORDER BY id",
                logger: database.logger
            ).decode(String.self).reduce(into: [String]()) { $0.append($1) }
        }
        #expect(types == ["auth.tenant.created", "auth.user.registered", "notifications.request", "auth.membership.added"])
    }

    @Test("the verification email's command keeps no payload in the outbox once published (its token is gone); other events keep theirs")
    func secretPayloadErased() async throws {
        let answer = try await signUp()
        let tenantText = try #require((answer.json["tenant"] as? [String: Any])?["id"] as? String)
        let tenant = try #require(UUID(uuidString: tenantText))
        @Sendable func payloads() async throws -> [String: Int?] {
            try await withDatabase("auth") { database in
                try await database.client.query(
                    "SELECT event_type, CASE WHEN published_at IS NULL THEN NULL ELSE length(payload) END FROM auth.outbox WHERE tenant_id = \(tenant)",
                    logger: database.logger
                ).decode((String, Int?).self).reduce(into: [String: Int?]()) { $0[$1.0] = $1.1 }
            }
        }
        let published = try await eventually(timeout: .seconds(30)) { try await payloads().values.allSatisfy { $0 != nil } }
        #expect(published)
        let lengths = try await payloads()
        #expect(lengths["notifications.request"] == .some(0))
        #expect((lengths["auth.tenant.created"] ?? 0) ?? 0 > 0)
    }

    @Test("a weak password and a malformed email answer 422 naming both fields")
    func validation() async throws {
        let answer = try await signUp(email: "not-an-email", password: "short")
        #expect(answer.status == 422)
        #expect(answer.contentType == "application/problem+json")
        let fields = (answer.json["errors"] as? [[String: String]] ?? []).compactMap { $0["field"] }
        #expect(Set(fields) == ["email", "password"])
    }

    @Test("a password past bcrypt's 72 bytes is refused (bcrypt would ignore the rest); 72 bytes are accepted")
    func passwordOverBcryptLimit() async throws {
        // 24 three-byte characters are 72 bytes; one more ASCII letter makes 73.
        let exact = String(repeating: "€", count: 24)
        #expect(try await signUp(password: exact).status == 201)
        let answer = try await signUp(password: exact + "x")
        #expect(answer.status == 422)
        #expect((answer.json["errors"] as? [[String: String]])?.first?["message"] == "must be at most 72 bytes")
    }

    @Test("the dummy hash for unknown emails is at the configured cost")
    func dummyHashCost() {
        #expect(PasswordHasher(cost: 5).dummyHash.hasPrefix("$2b$05$"))
        #expect(PasswordHasher(cost: 6).dummyHash.hasPrefix("$2b$06$"))
    }

    @Test("a common password is refused")
    func commonPassword() async throws {
        #expect(try await signUp(password: "password123").status == 422)
    }

    @Test("malformed JSON answers 400 and missing fields 422")
    func malformed() async throws {
        let base = try await AuthServer.shared.url()
        #expect(try await TestHTTP.send("POST", "\(base)/v1/auth/signup", raw: "{\"email\":").status == 400)
        let missing = try await TestHTTP.send("POST", "\(base)/v1/auth/signup", json: ["email": uniqueEmail()])
        #expect(missing.status == 422)
        #expect(try await TestHTTP.send("POST", "\(base)/v1/auth/login", raw: "[]").status == 400)
    }

    @Test("an email is taken case-insensitively: a second sign-up answers 409")
    func duplicate() async throws {
        let email = uniqueEmail()
        #expect(try await signUp(email: email).status == 201)
        #expect(try await signUp(email: "  " + email.uppercased()).status == 409)
    }

    @Test("login succeeds with the right password and fails alike for a wrong one or an unknown email")
    func login() async throws {
        let email = uniqueEmail()
        _ = try await signUp(email: email)
        let base = try await AuthServer.shared.url()
        let ok = try await TestHTTP.send("POST", "\(base)/v1/auth/login", json: ["email": email.uppercased(), "password": "correct horse battery"])
        #expect(ok.status == 200)
        #expect(ok.string("refreshToken") != nil)
        let wrong = try await TestHTTP.send("POST", "\(base)/v1/auth/login", json: ["email": email, "password": "wrong horse battery"])
        let unknown = try await TestHTTP.send("POST", "\(base)/v1/auth/login", json: ["email": uniqueEmail(), "password": "wrong horse battery"])
        #expect(wrong.status == 401 && unknown.status == 401)
        #expect(wrong.string("detail") == unknown.string("detail"))
    }

    @Test("me without a token, or with a forged one, answers 401")
    func meUnauthenticated() async throws {
        let base = try await AuthServer.shared.url()
        #expect(try await TestHTTP.send("GET", "\(base)/v1/auth/me").status == 401)
        let token = try #require(try await signUp().string("accessToken"))
        let forged = String(token.dropLast(4)) + (token.hasSuffix("AAAA") ? "BBBB" : "AAAA")
        #expect(try await TestHTTP.send("GET", "\(base)/v1/auth/me", token: forged).status == 401)
        let header = Data(#"{"alg":"none","typ":"JWT"}"#.utf8).base64URLString
        let none = header + "." + token.split(separator: ".")[1] + "."
        #expect(try await TestHTTP.send("GET", "\(base)/v1/auth/me", token: none).status == 401)
    }

    @Test("the JWKS publishes the signing key as an EC P-256 JWK")
    func jwks() async throws {
        let answer = try await TestHTTP.send("GET", "\(try await AuthServer.shared.url())/.well-known/jwks.json")
        let keys = try #require(answer.json["keys"] as? [[String: Any]])
        #expect(keys.first?["kty"] as? String == "EC")
        #expect(keys.first?["crv"] as? String == "P-256")
        #expect(keys.allSatisfy { $0["d"] == nil })
    }
}

/// The NumericDate claims of a JWT (`iat`, `exp`, `nbf`) as written in its payload.
func numericDates(_ jwt: String) throws -> [String: String] {
    let parts = jwt.split(separator: ".")
    let payload = String(decoding: try #require(Data(base64URL: String(parts[1]))), as: UTF8.self)
    var found: [String: String] = [:]
    for name in ["iat", "exp", "nbf"] {
        guard let range = payload.range(of: "\"\(name)\":") else { continue }
        found[name] = String(payload[range.upperBound...].prefix { $0 != "," && $0 != "}" }).trimmingCharacters(in: .whitespaces)
    }
    return found
}
