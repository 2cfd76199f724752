import Crypto
import Foundation
import Hummingbird
import NIOCore
import ServiceKit

/// `/v1/campaigns/t/open/{token}` (the pixel) and `/v1/campaigns/t/click/{token}?u=…` (the
/// redirect), public. A click goes only where the token was signed to go: the address is
/// part of what the HMAC covers, so a changed `u` is 404, never an open redirect.
struct TrackingRoutes: RouteGroup {
    let store: TrackingStore
    let secret: SymmetricKey

    /// A transparent 1 × 1 GIF.
    static let pixel: [UInt8] = [
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x21, 0xF9, 0x04, 0x01,
        0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B,
    ]

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        router.get("v1/campaigns/t/open/:token") { _, context in try await open(context) }
        router.get("v1/campaigns/t/click/:token") { request, context in try await click(request, context) }
    }

    func open(_ context: ServiceRequestContext) async throws -> Response {
        guard let token = context.parameters.get("token"), let link = SignedLink.verify(token, secret: secret), link.purpose == .open,
            try await store.record(link, kind: "open", url: nil)
        else { throw Problem.notFound("No such link.") }
        return Response(
            status: .ok, headers: [.contentType: "image/gif", .cacheControl: "no-store, max-age=0"],
            body: .init(byteBuffer: ByteBuffer(bytes: Self.pixel)))
    }

    func click(_ request: Request, _ context: ServiceRequestContext) async throws -> Response {
        guard let token = context.parameters.get("token"), let url = request.queryItems["u"], url.count <= 4096,
            let link = SignedLink.verify(token, secret: secret, bound: url), link.purpose == .click,
            url.lowercased().hasPrefix("http://") || url.lowercased().hasPrefix("https://"),
            try await store.record(link, kind: "click", url: url)
        else { throw Problem.notFound("No such link.") }
        return Response(status: .found, headers: [.location: url, .cacheControl: "no-store"])
    }
}
