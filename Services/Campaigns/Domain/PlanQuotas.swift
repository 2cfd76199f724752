import Contracts
import Foundation
import Messaging

/// A tenant's campaign quotas, from its plan as `auth.tenant.v1` last told this replica.
struct PlanQuotas: Sendable {
    let tenants: TenantDirectory

    func subscribers(tenant: UUID) -> Int { tenants.entry(tenant).plan.limits.maxSubscribers }
    func monthlySends(tenant: UUID) -> Int { tenants.entry(tenant).plan.limits.campaignEmailsPerMonth }
}
