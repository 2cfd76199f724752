import Foundation
import Persistence
import PostgresNIO

/// SQL for opens and clicks.
struct TrackingStore: Sendable {
    let database: Database

    /// Records an open or a click; false when the campaign is gone.
    func record(_ link: SignedLink, kind: String, url: String?) async throws -> Bool {
        do {
            _ = try await database.withTenant(link.tenant) { connection in
                try await connection.query(
                    """
                    INSERT INTO campaigns.tracking_events (tenant_id, campaign_id, subscriber_id, kind, url)
                    VALUES (\(link.tenant), \(link.campaign), \(link.subscriber), \(kind), \(url))
                    """, logger: database.logger)
            }
            return true
        } catch  where error.sqlState == SQLState.foreignKeyViolation {
            return false
        }
    }

    /// Opens and clicks of a campaign, total and by distinct subscriber, and its most
    /// clicked links.
    static func counts(_ campaign: UUID, on connection: PostgresConnection, logger: Logger) async throws -> CampaignStatus.Engagement {
        var engagement = CampaignStatus.Engagement(opens: 0, uniqueOpens: 0, clicks: 0, uniqueClicks: 0, links: [])
        for try await (kind, total, unique) in try await connection.query(
            """
            SELECT kind, count(*)::int, count(DISTINCT subscriber_id)::int FROM campaigns.tracking_events
            WHERE campaign_id = \(campaign) GROUP BY kind
            """, logger: logger
        ).decode((String, Int, Int).self) {
            if kind == "open" {
                (engagement.opens, engagement.uniqueOpens) = (total, unique)
            } else {
                (engagement.clicks, engagement.uniqueClicks) = (total, unique)
            }
        }
        for try await (url, total, unique) in try await connection.query(
            """
            SELECT url, count(*)::int, count(DISTINCT subscriber_id)::int FROM campaigns.tracking_events
            WHERE campaign_id = \(campaign) AND kind = 'click' GROUP BY url ORDER BY 2 DESC, 1 LIMIT 20
            """, logger: logger
        ).decode((String, Int, Int).self) {
            engagement.links.append(.init(url: url, clicks: total, uniqueClicks: unique))
        }
        return engagement
    }
}
