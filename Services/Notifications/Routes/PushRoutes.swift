import Foundation
import Hummingbird
import Outbound
import ServiceKit

/// `/v1/notifications/push-subscriptions`: the signed-in user's browsers, and the VAPID
/// public key a browser subscribes with (`applicationServerKey`).
struct PushRoutes: RouteGroup {
    let store: PushStore
    let policy: DestinationPolicy

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let subscriptions = router.group("v1/notifications/push-subscriptions").add(middleware: AuthenticationMiddleware(verifier: verifier))
        subscriptions.get("vapid-public-key") { _, context -> PublicKey in
            _ = try InboxRoutes.user(context)
            return PublicKey(key: try await store.vapidKey().publicKey.x963Representation.base64URL)
        }
        subscriptions.post { request, context -> EditedResponse<PushSubscription> in
            let (user, tenant) = try InboxRoutes.user(context)
            let input = try await request.decodeJSON(NewSubscription.self, context: context)
            var v = Validator()
            do {
                try await policy.check(input.endpoint)
            } catch {
                v.add("endpoint", "\(error)")
            }
            v.check(
                PushSubscriptionKeys(p256dh: input.keys.p256dh, auth: input.keys.auth) != nil, "keys",
                "must be the subscription's p256dh (a P-256 point) and 16-byte auth, base64url")
            try v.finish()
            let subscription = try await store.subscribe(
                user: user, tenant: tenant, endpoint: input.endpoint, p256dh: input.keys.p256dh, auth: input.keys.auth)
            return EditedResponse(status: .created, response: subscription)
        }
        subscriptions.get { _, context -> SubscriptionList in
            let (user, tenant) = try InboxRoutes.user(context)
            return SubscriptionList(items: try await store.list(user: user, tenant: tenant))
        }
        subscriptions.delete(":id") { _, context -> HTTPResponse.Status in
            let (user, tenant) = try InboxRoutes.user(context)
            guard let raw = context.parameters.get("id"), let id = UUID(uuidString: raw), try await store.delete(id, user: user, tenant: tenant)
            else {
                throw Problem.notFound("No such push subscription.")
            }
            return .noContent
        }
    }

    /// As `PushSubscription.toJSON()` gives it in the browser.
    struct NewSubscription: Decodable {
        struct Keys: Decodable {
            var p256dh: String
            var auth: String
        }
        var endpoint: String
        var keys: Keys
    }

    struct PublicKey: ResponseEncodable { var key: String }
    struct SubscriptionList: ResponseEncodable { var items: [PushSubscription] }
}

extension PushSubscription: ResponseEncodable {}
