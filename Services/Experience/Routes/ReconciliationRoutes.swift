import Foundation
import Hummingbird
import ServiceKit

/// `/v1/admin/experience/reconciliation`: the tenant's counter checks, and one run on demand.
struct ReconciliationRoutes: RouteGroup {
    let store: ReconciliationStore

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let reconciliation = router.group("v1/admin/experience/reconciliation").add(middleware: AuthenticationMiddleware(verifier: verifier))
        reconciliation.get { _, context in
            let identity = try context.requireIdentity()
            try identity.requireTenantAdmin()
            return Page(items: try await store.recent(tenant: identity.tenantID), nextCursor: nil)
        }
        reconciliation.post { request, context in
            let identity = try context.requireIdentity()
            try identity.requireTenantAdmin()
            let input = try await request.decodeOptionalJSON(RunInput.self, context: context)
            var v = Validator()
            let hours = input?.hours ?? ReconciliationRules.defaultHours
            v.check((1...ReconciliationRules.maxHours).contains(hours), "hours", "must be 1 to \(ReconciliationRules.maxHours)")
            try v.finish()
            return EditedResponse(status: .created, response: try await store.reconcile(tenant: identity.tenantID, hours: hours))
        }
    }

    struct RunInput: Decodable, Sendable {
        var hours: Int?
    }
}

extension Reconciliation: ResponseEncodable {}
