/// A tenant's plan and what it allows: the one place the limits are defined. Auth
/// stores the plan and publishes it on `auth.tenant.v1`; the gateway enforces the rate
/// limits; auth enforces the quotas; notifications paces sends; campaigns keeps its
/// subscriber and monthly send quotas and paces campaign mail.
public enum Plan: String, Codable, Sendable, CaseIterable {
    case free, pro, enterprise

    public struct Limits: Codable, Sendable, Equatable {
        /// Sustained requests per second for the whole tenant.
        public var requestsPerSecond: Int
        /// Requests allowed at once above the sustained rate.
        public var burst: Int
        /// Sustained requests per second for one user or API client of the tenant.
        public var userRequestsPerSecond: Int
        public var maxMembers: Int
        public var maxAPIClients: Int
        public var maxPendingInvitations: Int
        /// Notifications sent per second for the tenant, per channel, on each notifications replica.
        public var emailsPerSecond: Double
        public var pushesPerSecond: Double
        public var webhookDeliveriesPerSecond: Double
        /// Campaigns: subscribers kept, campaign emails sent per calendar month, and the
        /// tenant's campaign send rate.
        public var maxSubscribers: Int
        public var campaignEmailsPerMonth: Int
        public var campaignEmailsPerSecond: Double
    }

    public var limits: Limits {
        switch self {
        case .free:
            Limits(
                requestsPerSecond: 10, burst: 40, userRequestsPerSecond: 5, maxMembers: 5, maxAPIClients: 2, maxPendingInvitations: 10,
                emailsPerSecond: 2, pushesPerSecond: 5, webhookDeliveriesPerSecond: 20, maxSubscribers: 1000, campaignEmailsPerMonth: 10000,
                campaignEmailsPerSecond: 10)
        case .pro:
            Limits(
                requestsPerSecond: 100, burst: 400, userRequestsPerSecond: 30, maxMembers: 100, maxAPIClients: 20, maxPendingInvitations: 200,
                emailsPerSecond: 20, pushesPerSecond: 50, webhookDeliveriesPerSecond: 200, maxSubscribers: 100_000,
                campaignEmailsPerMonth: 1_000_000, campaignEmailsPerSecond: 100)
        case .enterprise:
            Limits(
                requestsPerSecond: 1000, burst: 4000, userRequestsPerSecond: 200, maxMembers: 10000, maxAPIClients: 200,
                maxPendingInvitations: 5000, emailsPerSecond: 200, pushesPerSecond: 500, webhookDeliveriesPerSecond: 2000,
                maxSubscribers: 10_000_000, campaignEmailsPerMonth: 100_000_000, campaignEmailsPerSecond: 1000)
        }
    }
}
