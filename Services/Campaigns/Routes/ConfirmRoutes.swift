import Crypto
import Foundation
import Hummingbird
import ServiceKit

/// `/v1/campaigns/t/confirm/{token}`, public: the link of a double opt-in email. Opening it
/// confirms the membership; a tampered token is 404.
struct ConfirmRoutes: RouteGroup {
    let lists: ListStore
    let secret: SymmetricKey

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        router.get("v1/campaigns/t/confirm/:token") { _, context in
            guard let token = context.parameters.get("token"), let link = SignedLink.verify(token, secret: secret), link.purpose == .confirm else {
                throw Problem.notFound("No such link.")
            }
            let confirmed = try await lists.confirm(link)
            return PublicPage.response(
                "Subscription",
                confirmed ? "<p>Thank you: your subscription is confirmed.</p>" : "<p>There is nothing to confirm with this link any more.</p>")
        }
    }
}
