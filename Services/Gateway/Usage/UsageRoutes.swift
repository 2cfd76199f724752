import Contracts
import Foundation
import Hummingbird
import Messaging
import ServiceKit

/// `GET /v1/admin/usage`: the caller's tenant's plan, limits and recent request counts
/// from this gateway replica's own counters.
struct UsageRoutes: Sendable {
    let verifier: TokenVerifier
    let tenants: TenantDirectory
    let usage: UsageCounters

    struct Answer: ResponseEncodable {
        var tenantId: UUID
        var plan: String
        var limits: Plan.Limits
        var usage: UsageCounters.Summary
        /// Counts and limits are per gateway replica; the cluster-wide limit is the
        /// per-replica limit times the number of replicas.
        var scope = "replica"
    }

    func add(to router: Router<ServiceRequestContext>) {
        router.group("v1/admin/usage").add(middleware: AuthenticationMiddleware(verifier: verifier)).get { _, context in
            let identity = try context.requireIdentity()
            guard identity.userID != nil else { throw Problem.forbidden("API clients cannot use the admin console.") }
            try identity.requireTenantAdmin()
            let entry = tenants.entry(identity.tenantID)
            return Answer(tenantId: identity.tenantID, plan: entry.plan.rawValue, limits: entry.plan.limits, usage: usage.summary(identity.tenantID))
        }
    }
}
