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
