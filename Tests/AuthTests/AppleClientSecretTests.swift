import Foundation
import JWTKit
import Testing

@testable import Auth

@Suite("Apple client secret")
struct AppleClientSecretTests {
    @Test("is an ES256 JWT with Apple's audience, our team as issuer, the client as subject and the key id in the header")
    func signed() async throws {
        let key = ES256PrivateKey()
        let secret = try await AppleClientSecret.make(
            clientID: "com.example.web", signing: .init(teamID: "TEAM123456", keyID: "KEY1234567", privateKeyPEM: key.pemRepresentation))
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: key.publicKey, kid: JWKIdentifier(string: "KEY1234567"))
        let claims = try await keys.verify(secret, as: AppleClientSecret.self)
        #expect(claims.iss.value == "TEAM123456")
        #expect(claims.sub.value == "com.example.web")
        #expect(claims.aud.value == ["https://appleid.apple.com"])
        #expect(try OAuthProviderClient.header(of: secret).kid == "KEY1234567")
        #expect(try OAuthProviderClient.header(of: secret).alg == "ES256")
        let dates = try numericDates(secret)
        let whole = dates.values.allSatisfy { text in text.allSatisfy { $0.isNumber } }
        #expect(dates.count == 2 && whole)
    }
}
