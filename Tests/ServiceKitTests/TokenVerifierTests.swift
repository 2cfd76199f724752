import Foundation
import JWTKit
import ServiceKit
import Synchronization
import TestSupport
import Testing

@Suite("access token verification")
struct TokenVerifierTests {
    func verifier(_ issuer: TestIssuer) -> TokenVerifier {
        TokenVerifier(jwksURL: issuer.jwksURL, issuer: TestEnvironment.issuer, audience: TestEnvironment.audience, logger: TestEnvironment.logger)
    }

    func isUnauthorized(_ body: () async throws -> Identity) async -> Bool {
        do {
            _ = try await body()
            return false
        } catch let problem as Problem {
            return problem.statusCode == 401
        } catch {
            return false
        }
    }

    @Test("a token signed by a key of the JWKS yields the caller's identity")
    func valid() async throws {
        let issuer = try await TestIssuer.start()
        let tenant = UUID.v7()
        let user = UUID.v7()
        let identity = try await verifier(issuer).verify(try await issuer.token(tenant: tenant, subject: user, roles: ["admin"]))
        #expect(identity.tenantID == tenant)
        #expect(identity.userID == user)
        #expect(identity.roles == ["admin"])
    }

    @Test("a token with alg none is refused")
    func algNone() async throws {
        let issuer = try await TestIssuer.start()
        let real = try await issuer.token(tenant: .v7())
        let parts = real.split(separator: ".")
        let header = Data(#"{"alg":"none","kid":"\#(issuer.kid)","typ":"JWT"}"#.utf8).base64URLString
        let forged = "\(header).\(parts[1])."
        #expect(await isUnauthorized { try await verifier(issuer).verify(forged) })
    }

    @Test("a token whose payload was altered after signing is refused")
    func tampered() async throws {
        let issuer = try await TestIssuer.start()
        let parts = try await issuer.token(tenant: .v7(), roles: ["viewer"]).split(separator: ".").map(String.init)
        let payloadData = try #require(Data(base64URL: parts[1]))
        var claims = try #require(try JSONSerialization.jsonObject(with: payloadData) as? [String: Any])
        claims["roles"] = ["owner"]
        let payload = try JSONSerialization.data(withJSONObject: claims).base64URLString
        #expect(await isUnauthorized { try await verifier(issuer).verify("\(parts[0]).\(payload).\(parts[2])") })
    }

    @Test("a token signed by a key not in the JWKS is refused")
    func foreignKey() async throws {
        let issuer = try await TestIssuer.start()
        let stranger = try await TestIssuer.start()
        // Same kid as the trusted issuer, different key: the signature cannot verify.
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: ES256PrivateKey(), kid: JWKIdentifier(string: issuer.kid))
        let now = Date()
        let forged = try await keys.sign(
            AccessClaims(
                issuer: TestEnvironment.issuer, audience: TestEnvironment.audience, subject: "x", tenantID: .v7(), roles: ["owner"],
                scope: "", issuedAt: now, expiresAt: now.addingTimeInterval(60), id: "1"), kid: JWKIdentifier(string: issuer.kid))
        #expect(await isUnauthorized { try await verifier(issuer).verify(forged) })
        #expect(await isUnauthorized { try await verifier(issuer).verify(try await stranger.token(tenant: .v7())) })
    }

    @Test("a refresh that fails halfway keeps the keys it had: tokens of the old key keep verifying")
    func failedRefreshKeepsKeys() async throws {
        let issuer = try await TestIssuer.start()
        let good = try await TestHTTP.send("GET", issuer.jwksURL)
        let goodSet = String(decoding: good.body, as: UTF8.self)
        // A key set that decodes, but whose key cannot be loaded.
        let broken = #"{"keys":[{"kty":"EC","crv":"P-256","kid":"next","alg":"ES256","x":"AAAA","y":"AAAA"}]}"#
        let fetches = Mutex(0)
        let verifier = TokenVerifier(
            issuer: TestEnvironment.issuer, audience: TestEnvironment.audience, refetchInterval: .zero, logger: TestEnvironment.logger
        ) {
            let count = fetches.withLock { count in
                count += 1
                return count
            }
            return count == 1 ? goodSet : broken
        }
        let first = UUID.v7()
        #expect(try await verifier.verify(try await issuer.token(tenant: first)).tenantID == first)
        // A token naming an unknown key makes the verifier fetch the broken set.
        let stranger = try await TestIssuer.start()
        #expect(await isUnauthorized { try await verifier.verify(try await stranger.token(tenant: .v7())) })
        #expect(fetches.withLock { $0 } == 2)
        // A token not seen before (no cache) of the old key still verifies.
        let tenant = UUID.v7()
        #expect(try await verifier.verify(try await issuer.token(tenant: tenant)).tenantID == tenant)
    }

    @Test("a token not valid yet (nbf beyond the leeway) is refused")
    func notYetValid() async throws {
        let issuer = try await TestIssuer.start()
        let now = Date()
        var claims = AccessClaims(
            issuer: TestEnvironment.issuer, audience: TestEnvironment.audience, subject: "x", tenantID: .v7(), roles: [], scope: "",
            issuedAt: now, expiresAt: now.addingTimeInterval(600), id: "1")
        claims.nbf = .init(value: now.addingTimeInterval(300))
        let token = try await issuer.sign(claims)
        #expect(await isUnauthorized { try await verifier(issuer).verify(token) })
    }

    @Test("a verified token is answered from the cache the second time, with the same identity")
    func cached() async throws {
        let issuer = try await TestIssuer.start()
        let verifier = verifier(issuer)
        let token = try await issuer.token(tenant: .v7())
        let first = try await verifier.verify(token)
        let fetches = issuer.jwksFetches
        #expect(try await verifier.verify(token) == first)
        #expect(issuer.jwksFetches == fetches)
    }

    @Test("an expired token is refused")
    func expired() async throws {
        let issuer = try await TestIssuer.start()
        let token = try await issuer.token(tenant: .v7(), expiresIn: -120)
        #expect(await isUnauthorized { try await verifier(issuer).verify(token) })
    }

    @Test("a token for another audience or issuer is refused")
    func wrongAudience() async throws {
        let issuer = try await TestIssuer.start()
        #expect(await isUnauthorized { try await verifier(issuer).verify(try await issuer.token(tenant: .v7(), audience: "other")) })
        #expect(await isUnauthorized { try await verifier(issuer).verify(try await issuer.token(tenant: .v7(), issuer: "https://evil.example")) })
    }

    @Test("garbage is refused, not crashed on")
    func garbage() async throws {
        let issuer = try await TestIssuer.start()
        for token in ["", "a.b", "a.b.c", "....", String(repeating: "x", count: 5000)] {
            #expect(await isUnauthorized { try await verifier(issuer).verify(token) })
        }
    }

    @Test("unknown kids trigger at most one JWKS fetch per interval")
    func refetchIsRateLimited() async throws {
        let fetches = Atomic<Int>(0)
        let verifier = TokenVerifier(
            issuer: TestEnvironment.issuer, audience: TestEnvironment.audience, refetchInterval: .seconds(60), logger: TestEnvironment.logger
        ) {
            fetches.add(1, ordering: .relaxed)
            return #"{"keys":[]}"#
        }
        for index in 0..<20 {
            let header = Data(#"{"alg":"ES256","kid":"junk-\#(index)"}"#.utf8).base64URLString
            _ = try? await verifier.verify("\(header).e30.c2ln")
        }
        #expect(fetches.load(ordering: .relaxed) == 1)
    }
}

@Suite("key refresh under concurrency")
struct KeyRefreshConcurrencyTests {
    @Test("requests that arrive together with a new kid all wait for the one fetch and succeed")
    func singleFlight() async throws {
        let issuer = try await TestIssuer.start()
        let verifier = TokenVerifier(
            jwksURL: issuer.jwksURL, issuer: TestEnvironment.issuer, audience: TestEnvironment.audience, logger: TestEnvironment.logger)
        let token = try await issuer.token(tenant: .v7())
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 { group.addTask { (try? await verifier.verify(token)) != nil } }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0 })
    }
}
