import Foundation

/// `campaigns.campaign.v1`: a campaign changed state, with its counts then. `version`
/// grows with every change, so a consumer keeps the newest.
public struct CampaignChanged: EventPayload {
    public static let scheduled = "campaigns.campaign.scheduled"
    public static let started = "campaigns.campaign.started"
    public static let paused = "campaigns.campaign.paused"
    public static let resumed = "campaigns.campaign.resumed"
    public static let finished = "campaigns.campaign.finished"
    public static let cancelled = "campaigns.campaign.cancelled"

    public var campaignId: UUID
    public var tenantId: UUID
    public var name: String
    /// draft, scheduled, running, paused, finished or cancelled.
    public var state: String
    /// Recipients frozen when it started.
    public var audience: Int
    public var sent: Int
    public var failed: Int
    public var bounced: Int
    /// Why it paused (by hand, or after failures in a row).
    public var pauseReason: String?
    public var version: Int
    public var occurredAt: Date

    public init(
        campaignId: UUID, tenantId: UUID, name: String, state: String, audience: Int, sent: Int, failed: Int, bounced: Int, pauseReason: String?,
        version: Int, occurredAt: Date
    ) {
        self.campaignId = campaignId
        self.tenantId = tenantId
        self.name = name
        self.state = state
        self.audience = audience
        self.sent = sent
        self.failed = failed
        self.bounced = bounced
        self.pauseReason = pauseReason
        self.version = version
        self.occurredAt = occurredAt
    }

    public var key: String { campaignId.uuidString.lowercased() }
    public var subject: String { "campaigns/\(key)" }
}

/// `campaigns.suppression.v1`: an address campaigns will not mail (a hard bounce, a
/// complaint, by hand), or mails again (removed). Notifications stops transactional email to
/// it too. Keyed by tenant and address, so the newest word on an address is kept.
public struct SuppressionChanged: EventPayload {
    public static let added = "campaigns.suppression.added"
    public static let removed = "campaigns.suppression.removed"

    public var tenantId: UUID
    /// Lower-case.
    public var email: String
    /// `hard_bounce`, `complaint` or `manual`.
    public var reason: String
    public var detail: String?
    public var occurredAt: Date

    public init(tenantId: UUID, email: String, reason: String, detail: String?, occurredAt: Date) {
        self.tenantId = tenantId
        self.email = email
        self.reason = reason
        self.detail = detail
        self.occurredAt = occurredAt
    }

    public var key: String { "\(tenantId.uuidString.lowercased()):\(email)" }
    public var subject: String { "suppressions/\(email)" }
}
