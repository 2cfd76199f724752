import Crypto
import Foundation
import Hummingbird
import NIOCore
import ServiceKit

/// `/v1/campaigns/t/preferences/{token}`, public: the subscriber's page of lists (the
/// tenant's public ones and those they are on), a box each; POST saves the boxes.
struct PreferenceRoutes: RouteGroup {
    let store: PreferenceStore
    let secret: SymmetricKey

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let group = router.group("v1/campaigns/t/preferences")
        group.get(":token") { _, context in try await show(context, saved: false) }
        group.post(":token") { request, context in
            let link = try link(context)
            let body = try await request.body.collect(upTo: 64 * 1024)
            let form = String(decoding: Array(buffer: body), as: UTF8.self)
            let checked = Set(
                form.split(separator: "&").compactMap { pair -> UUID? in
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2, parts[0] == "list" else { return nil }
                    return UUID(uuidString: String(parts[1]).removingPercentEncoding ?? "")
                })
            guard try await store.save(link, checked: checked) != nil else { throw Problem.notFound("No such link.") }
            return try await show(context, saved: true)
        }
    }

    func link(_ context: ServiceRequestContext) throws -> SignedLink {
        guard let token = context.parameters.get("token"), let link = SignedLink.verify(token, secret: secret), link.purpose == .preferences else {
            throw Problem.notFound("No such link.")
        }
        return link
    }

    func show(_ context: ServiceRequestContext, saved: Bool) async throws -> Response {
        let link = try link(context)
        guard let (email, choices) = try await store.page(link) else { throw Problem.notFound("No such link.") }
        let boxes = choices.map { choice in
            "<p><label><input type=\"checkbox\" name=\"list\" value=\"\(choice.list.uuidString.lowercased())\"\(choice.subscribed ? " checked" : "")> "
                + HTMLText.escape(choice.name) + "</label></p>"
        }.joined()
        let body =
            (saved ? "<p><strong>Saved.</strong></p>" : "") + "<p>The emails <strong>\(HTMLText.escape(email))</strong> gets:</p>"
            + "<form method=\"post\">\(boxes)<button type=\"submit\">Save</button></form>"
        return PublicPage.response("Email preferences", body)
    }
}
