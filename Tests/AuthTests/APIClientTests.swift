import Foundation
import ServiceKit
import TestSupport
import Testing

func tokenEndpoint(_ form: String, basic: (String, String)? = nil) async throws -> HTTPAnswer {
    var headers = ["Content-Type": "application/x-www-form-urlencoded"]
    if let (id, secret) = basic { headers["Authorization"] = "Basic " + Data("\(id):\(secret)".utf8).base64EncodedString() }
    return try await TestHTTP.send("POST", "\(try await AuthServer.shared.url())/v1/auth/token", raw: form, headers: headers)
}

@Suite("API clients and the token endpoint")
struct APIClientTests {
    func createClient(_ owner: Session, scopes: [String] = ["tasks:read", "tasks:write"]) async throws -> (String, String) {
        let created = try await auth("POST", "/v1/admin/api-clients", json: ["name": "billing sync", "scopes": scopes], token: owner.accessToken)
        #expect(created.status == 201)
        return (try #require(created.string("clientId")), try #require(created.string("clientSecret")))
    }

    @Test("client credentials by HTTP Basic yield a token whose sub is the client id, in the client's tenant, with its scopes")
    func clientCredentials() async throws {
        let owner = try await Session.owner()
        let (id, secret) = try await createClient(owner)
        let answer = try await tokenEndpoint("grant_type=client_credentials", basic: (id, secret))
        #expect(answer.status == 200)
        #expect(answer.string("token_type") == "Bearer")
        #expect(answer.headers["cache-control"] == "no-store")
        let base = try await AuthServer.shared.url()
        let verifier = TokenVerifier(
            jwksURL: "\(base)/.well-known/jwks.json", issuer: TestEnvironment.issuer, audience: TestEnvironment.audience,
            logger: TestEnvironment.logger)
        let identity = try await verifier.verify(try #require(answer.string("access_token")))
        #expect(identity.subject == id)
        #expect(identity.tenantID.uuidString.lowercased() == owner.tenantID)
        #expect(Set(identity.scopes) == ["tasks:read", "tasks:write"])
        #expect(identity.roles.isEmpty)
    }

    @Test("credentials in the form work, and a narrower scope may be asked for")
    func formCredentials() async throws {
        let owner = try await Session.owner()
        let (id, secret) = try await createClient(owner)
        let answer = try await tokenEndpoint("grant_type=client_credentials&client_id=\(id)&client_secret=\(secret)&scope=tasks%3Aread")
        #expect(answer.status == 200)
        #expect(answer.string("scope") == "tasks:read")
        let wider = try await tokenEndpoint("grant_type=client_credentials&client_id=\(id)&client_secret=\(secret)&scope=photos:write")
        #expect(wider.status == 400)
        #expect(wider.string("error") == "invalid_scope")
    }

    @Test("a wrong secret or a revoked client answers 401 invalid_client; the secret is never listed")
    func refusals() async throws {
        let owner = try await Session.owner()
        let (id, secret) = try await createClient(owner)
        let wrong = try await tokenEndpoint("grant_type=client_credentials", basic: (id, secret + "x"))
        #expect(wrong.status == 401)
        #expect(wrong.string("error") == "invalid_client")
        #expect(wrong.contentType == "application/problem+json")
        let listed = try await auth("GET", "/v1/admin/api-clients", token: owner.accessToken)
        let item = try #require((listed.json["items"] as? [[String: Any]])?.first)
        #expect(item["clientSecret"] == nil)
        #expect(try await auth("DELETE", "/v1/admin/api-clients/\(try #require(item["id"] as? String))", token: owner.accessToken).status == 204)
        #expect(try await tokenEndpoint("grant_type=client_credentials", basic: (id, secret)).status == 401)
    }

    @Test("unknown grant types, missing grant types and JSON bodies are refused with RFC 6749 error codes")
    func badRequests() async throws {
        #expect(try await tokenEndpoint("grant_type=password&username=a&password=b").string("error") == "unsupported_grant_type")
        #expect(try await tokenEndpoint("").string("error") == "invalid_request")
        let json = try await auth("POST", "/v1/auth/token", json: ["grant_type": "client_credentials"])
        #expect(json.status == 400)
        #expect(try await tokenEndpoint("grant_type=refresh_token&refresh_token=nope").string("error") == "invalid_grant")
    }

    @Test("the refresh_token grant rotates a user's refresh token")
    func refreshGrant() async throws {
        let owner = try await Session.owner()
        let answer = try await tokenEndpoint("grant_type=refresh_token&refresh_token=\(owner.refreshToken)")
        #expect(answer.status == 200)
        #expect(answer.string("refresh_token") != nil && answer.string("refresh_token") != owner.refreshToken)
    }

    @Test("unknown scopes and an empty name are refused at creation")
    func createValidation() async throws {
        let owner = try await Session.owner()
        let answer = try await auth("POST", "/v1/admin/api-clients", json: ["name": " ", "scopes": ["root"]], token: owner.accessToken)
        #expect(answer.status == 422)
        #expect(Set((answer.json["errors"] as? [[String: String]] ?? []).compactMap { $0["field"] }) == ["name", "scopes"])
    }
}
