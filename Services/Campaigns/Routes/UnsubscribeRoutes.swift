import Crypto
import Foundation
import Hummingbird
import NIOCore
import ServiceKit

/// `/v1/campaigns/t/unsubscribe/{token}`, public (no login; the signed token is the key):
/// GET shows what the link will do and asks to confirm; POST does it, whether from that
/// page or from a mail client's one-click unsubscribe (RFC 8058). A tampered token is 404.
struct UnsubscribeRoutes: RouteGroup {
    let store: UnsubscribeStore
    let secret: SymmetricKey

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let group = router.group("v1/campaigns/t/unsubscribe")
        group.get(":token") { _, context in try await confirm(context) }
        group.post(":token") { _, context in try await unsubscribe(context) }
    }

    func link(_ context: ServiceRequestContext) throws -> SignedLink {
        guard let token = context.parameters.get("token"), let link = SignedLink.verify(token, secret: secret), link.purpose == .unsubscribe else {
            throw Problem.notFound("No such link.")
        }
        return link
    }

    func confirm(_ context: ServiceRequestContext) async throws -> Response {
        let link = try link(context)
        guard let (email, lists) = try await store.target(link) else { throw Problem.notFound("No such link.") }
        let names = lists.map { HTMLText.escape($0.1) }
        let body = """
            <p>Unsubscribe <strong>\(HTMLText.escape(email))</strong> from \(names.isEmpty ? "these emails" : names.joined(separator: ", "))?</p>
            <form method="post"><button type="submit">Unsubscribe</button></form>
            """
        return PublicPage.response("Unsubscribe", body)
    }

    func unsubscribe(_ context: ServiceRequestContext) async throws -> Response {
        let link = try link(context)
        guard try await store.unsubscribe(link) != nil else { throw Problem.notFound("No such link.") }
        return PublicPage.response("Unsubscribed", "<p>You are unsubscribed. You will get no more of these emails.</p>")
    }
}
