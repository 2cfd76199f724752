import Foundation
import Hummingbird
import ServiceKit

/// `/.well-known/jwks.json` and `/.well-known/openid-configuration` (OpenID Connect
/// Discovery 1.0 §4): how the gateway and services find the keys to verify tokens.
struct KeyRoutes: Sendable {
    let keys: SigningKeyStore
    let issuer: String

    func add(to router: Router<ServiceRequestContext>) {
        router.get(".well-known/jwks.json") { _, _ -> Response in
            let json = try await keys.jwksJSON()
            return Response(
                status: .ok,
                headers: [.contentType: "application/jwk-set+json", .cacheControl: "public, max-age=300"],
                body: .init(byteBuffer: ByteBuffer(string: json)))
        }
        router.get(".well-known/openid-configuration") { _, _ in
            Discovery(
                issuer: issuer,
                jwks_uri: "\(issuer)/.well-known/jwks.json",
                token_endpoint: "\(issuer)/v1/auth/token",
                id_token_signing_alg_values_supported: ["ES256"],
                grant_types_supported: ["password", "refresh_token", "client_credentials"]
            )
        }
    }

    struct Discovery: ResponseEncodable {
        var issuer: String
        var jwks_uri: String
        var token_endpoint: String
        var id_token_signing_alg_values_supported: [String]
        var grant_types_supported: [String]
    }
}
