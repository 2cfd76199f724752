import Crypto
import Foundation
import Persistence
import ServiceKit
import TestSupport
import Testing

@testable import Auth

@Suite("signing-key rotation")
struct KeyRotationTests {
    static func kid(of token: String) throws -> String {
        let header = try #require(Data(base64URL: String(token.split(separator: ".")[0])))
        return try #require((try JSONSerialization.jsonObject(with: header) as? [String: Any])?["kid"] as? String)
    }

    static func store(_ database: Database) -> SigningKeyStore {
        SigningKeyStore(database: database, sealer: KeySealer(key: SymmetricKey(data: AuthServer.keyEncryptionKey)))
    }

    @Test("a rotated-in key is published before it signs; tokens of the old key stay valid until they expire")
    func rotation() async throws {
        let owner = try await Session.owner()
        let oldKid = try Self.kid(of: owner.accessToken)
        // Published an hour ahead: in the JWKS now, but not signing yet.
        let upcoming = try await withDatabase("auth") { try await Self.store($0).rotate(publishAhead: 3600) }
        let jwks = try await auth("GET", "/.well-known/jwks.json")
        let kids = (jwks.json["keys"] as? [[String: Any]] ?? []).compactMap { $0["kid"] as? String }
        #expect(kids.contains(upcoming) && kids.contains(oldKid))
        try await Task.sleep(for: .seconds(1.5))
        #expect(try Self.kid(of: try #require(try await login(owner.email, owner.password).string("accessToken"))) != upcoming)
        // Published now: signs once replicas reload (1 s here).
        let next = try await withDatabase("auth") { try await Self.store($0).rotate(publishAhead: 0) }
        let switched = try await eventually(timeout: .seconds(10)) {
            let token = try #require(try await login(owner.email, owner.password).string("accessToken"))
            return try Self.kid(of: token) == next
        }
        #expect(switched)
        #expect(try await auth("GET", "/v1/auth/me", token: owner.accessToken).status == 200)
        let after = (try await auth("GET", "/.well-known/jwks.json").json["keys"] as? [[String: Any]] ?? []).compactMap { $0["kid"] as? String }
        #expect(after.contains(oldKid) && after.contains(next))
    }
}
