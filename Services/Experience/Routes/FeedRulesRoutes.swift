import Foundation
import Hummingbird
import ServiceKit

/// `/v1/admin/experience/rules`: the tenant's sponsored slots and blocked providers (tenant
/// admins). A change drops the tenant's cached feeds here; other replicas follow within 30 s.
struct FeedRulesRoutes: RouteGroup {
    let store: FeedRulesStore
    let cache: HomeCache

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let rules = router.group("v1/admin/experience/rules").add(middleware: AuthenticationMiddleware(verifier: verifier))
        rules.get { _, context in
            let identity = try context.requireIdentity()
            try identity.requireTenantAdmin()
            let found = try await store.rules(tenant: identity.tenantID)
            return EditedResponse(headers: [.eTag: found.etag], response: found)
        }
        rules.put { request, context in
            let identity = try context.requireIdentity()
            try identity.requireTenantAdmin()
            let expected = try request.ifMatchVersion()
            let input = try await request.decodeJSON(FeedRulesInput.self, context: context)
            var v = Validator()
            let draft = input.rules(perSection: HomeRanking().perSection, &v)
            try v.finish()
            let saved = try await ExperienceProblems.mapErrors("rule set") {
                try await store.replace(with: draft, expectedVersion: expected, tenant: identity.tenantID)
            }
            cache.forget(tenant: identity.tenantID)
            return EditedResponse(headers: [.eTag: saved.etag], response: saved)
        }
    }
}

extension FeedRules: ResponseEncodable {}
