import Foundation
import Hummingbird
import Mail
import ServiceKit

/// `/v1/admin/campaigns/dkim`: the tenant's DKIM keys by sending domain (owners and
/// admins). A PUT makes a new key (the first, or a rotation) and shows the DNS record to
/// publish; the private key never leaves the service.
struct DKIMRoutes: RouteGroup {
    let store: DKIMStore
    static let admins: Set<String> = ["owner", "admin"]

    struct KeyInput: Decodable, Sendable {
        var selector: String?
        var algorithm: DKIMSigner.Algorithm?
    }

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let keys = router.group("v1/admin/campaigns/dkim").add(middleware: AuthenticationMiddleware(verifier: verifier))
        keys.get { _, context in
            let identity = try context.requireIdentity()
            try identity.require(anyOf: Self.admins)
            return Page(items: try await store.list(tenant: identity.tenantID), nextCursor: nil)
        }
        keys.put(":domain") { request, context in
            let identity = try context.requireIdentity()
            try identity.require(anyOf: Self.admins)
            let domain = try Self.domain(context)
            let input = try await request.decodeOptionalJSON(KeyInput.self, context: context) ?? KeyInput()
            var v = Validator()
            let selector = (input.selector ?? "s\(Int(Date().timeIntervalSince1970))").lowercased()
            v.check(selector.range(of: "^[a-z0-9][a-z0-9-]{0,62}$", options: .regularExpression) != nil, "selector", "must be letters, digits and -")
            try v.finish()
            let (published, created) = try await store.put(
                domain: domain, selector: selector, algorithm: input.algorithm ?? .rsaSHA256, tenant: identity.tenantID)
            return EditedResponse(status: created ? .created : .ok, response: published)
        }
        keys.delete(":domain") { _, context -> HTTPResponse.Status in
            let identity = try context.requireIdentity()
            try identity.require(anyOf: Self.admins)
            let domain = try Self.domain(context)
            try await CampaignProblems.mapErrors("DKIM key") { try await store.delete(domain: domain, tenant: identity.tenantID) }
            return .noContent
        }
    }

    /// A domain name as sender addresses use it; anything else names no key.
    static func domain(_ context: ServiceRequestContext) throws -> String {
        guard let raw = context.parameters.get("domain"), let address = EmailAddress.normalised("dkim@" + raw) else {
            throw Problem.notFound("No such DKIM key.")
        }
        return String(address.dropFirst(5))
    }
}

extension DKIMStore.Published: ResponseEncodable {}
