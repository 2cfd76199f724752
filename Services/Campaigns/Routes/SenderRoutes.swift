import Crypto
import Foundation
import Hummingbird
import ServiceKit

/// `/v1/admin/campaigns/senders` (owners and admins): the addresses campaigns may come
/// from. Adding one emails it a link (`/v1/campaigns/t/verify-sender/{token}`, public);
/// a campaign starts only from a verified address.
struct SenderRoutes: RouteGroup {
    let store: SenderStore
    let secret: SymmetricKey

    struct SenderInput: Decodable, Sendable {
        var email: String
    }

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let senders = router.group("v1/admin/campaigns/senders").add(middleware: AuthenticationMiddleware(verifier: verifier))
        senders.get { _, context in
            let identity = try context.requireIdentity()
            try identity.require(anyOf: DKIMRoutes.admins)
            return Page(items: try await store.list(tenant: identity.tenantID), nextCursor: nil)
        }
        senders.post { request, context in
            let identity = try context.requireIdentity()
            try identity.require(anyOf: DKIMRoutes.admins)
            let input = try await request.decodeJSON(SenderInput.self, context: context)
            var v = Validator()
            let email = SubscriberRules.email(input.email, &v)
            try v.finish()
            let (sender, created) = try await store.add(email, tenant: identity.tenantID)
            return EditedResponse(status: created ? .created : .ok, response: sender)
        }
        senders.delete(":id") { _, context -> HTTPResponse.Status in
            let identity = try context.requireIdentity()
            try identity.require(anyOf: DKIMRoutes.admins)
            let id = try context.pathID("sender")
            try await CampaignProblems.mapErrors("sender") { try await store.delete(id, tenant: identity.tenantID) }
            return .noContent
        }
        router.get("v1/campaigns/t/verify-sender/:token") { _, context in
            guard let token = context.parameters.get("token"), let link = SignedLink.verify(token, secret: secret), link.purpose == .verifySender,
                try await store.verify(link)
            else { throw Problem.notFound("No such link.") }
            return PublicPage.response("Sender address", "<p>Thank you: campaigns may now be sent from this address.</p>")
        }
    }
}

extension SenderStore.Sender: ResponseEncodable {}
