import Foundation
import Mail
import Persistence
import PostgresNIO
import ServiceKit

/// SQL for delivering a campaign: claiming its waiting sends and recording each outcome
/// the moment it is known.
struct SendStore: Sendable {
    let database: Database
    /// Opens the tenant's DKIM key.
    let sealer: KeySealer
    /// How long a sender may hold a claimed send before another takes it back.
    var claim: Duration = .seconds(120)

    /// A recipient claimed for sending, with what the template reads of them.
    struct Recipient: Sendable {
        var subscriberID: UUID
        var email: String
        var name: String
        var attributes: [String: JSONValue]
        /// The A/B variant it gets, if the campaign tests any.
        var variant: String?
    }

    /// What a delivery needs of its campaign: the campaign, its pinned version, the
    /// tenant's partials.
    func campaign(_ id: UUID, tenant: UUID) async throws -> (Campaign, [String: TemplateVersion], [String: String], DKIMSigner?)? {
        try await database.withTenant(tenant) { connection in
            let templates = TemplateStore(database: database)
            guard let campaign = try await CampaignStore(database: database).fetch(id, lock: false, on: connection),
                let pinned = try await templates.version(campaign.templateVersion, of: campaign.templateId, on: connection)
            else { return nil }
            // What each A/B variant sends ("" is the campaign's own).
            var versions = ["": pinned]
            for variant in campaign.abTest?.variants ?? [] {
                var version = pinned
                if let number = variant.templateVersion, let other = try await templates.version(number, of: campaign.templateId, on: connection) {
                    version = other
                }
                if let subject = variant.subject { version.subject = subject }
                versions[variant.name] = version
            }
            let partials = try await TemplateStore.partials(on: connection, logger: database.logger)
            let domain = campaign.fromEmail.split(separator: "@").last.map(String.init) ?? ""
            return (campaign, versions, partials, try await DKIMStore.signer(domain: domain, sealer: sealer, on: connection, logger: database.logger))
        }
    }

    /// Up to `limit` waiting sends of a running campaign, marked sending until the claim
    /// lapses; sends whose claim lapsed (their sender died) are waiting again first.
    func claim(_ campaign: UUID, limit: Int, tenant: UUID) async throws -> [Recipient] {
        try await database.withTenant(tenant) { connection in
            let ahead = try await claim(campaign, limit: limit, fromStart: false, on: connection)
            guard ahead.count < limit else { return ahead }
            // The end of a pass: the rest from the start, for sends given back or due again.
            return ahead + (try await claim(campaign, limit: limit - ahead.count, fromStart: true, on: connection))
        }
    }

    /// Claims up to `limit` sends in subscriber order after the campaign's cursor (or from
    /// the start) and moves the cursor past them. The campaign's row is locked meanwhile,
    /// so senders claiming together take turns.
    private func claim(_ campaign: UUID, limit: Int, fromStart: Bool, on connection: PostgresConnection) async throws -> [Recipient] {
        let seconds = Int(claim.components.seconds)
        var recipients: [Recipient] = []
        for try await (subscriber, email, name, attributes, variant) in try await connection.query(
            """
            WITH c AS (
              SELECT id, CASE WHEN \(fromStart) OR claim_cursor IS NULL THEN '00000000-0000-0000-0000-000000000000'::uuid ELSE claim_cursor END AS cursor
              FROM campaigns.campaigns
              WHERE id = \(campaign) AND state = 'running' FOR UPDATE),
            picked AS (
              -- A scalar subquery, so the cursor bounds the index scan (NULL: not running).
              SELECT x.subscriber_id FROM campaigns.campaign_sends x
              WHERE x.campaign_id = \(campaign) AND x.subscriber_id > (SELECT cursor FROM c)
                AND (x.state = 'queued' OR (x.state = 'sending' AND x.claimed_until < now()))
              ORDER BY x.subscriber_id LIMIT \(limit) FOR UPDATE OF x SKIP LOCKED),
            moved AS (
              UPDATE campaigns.campaigns SET claim_cursor = (SELECT subscriber_id FROM picked ORDER BY subscriber_id DESC LIMIT 1)
              WHERE id = \(campaign) AND EXISTS (SELECT 1 FROM picked)),
            claimed AS (
              UPDATE campaigns.campaign_sends x SET state = 'sending', attempts = attempts + 1,
                claimed_until = now() + make_interval(secs => \(seconds))
              -- By key, whatever the planner believes of a freshly frozen audience's size.
              WHERE x.campaign_id = \(campaign) AND x.subscriber_id = ANY(ARRAY(SELECT subscriber_id FROM picked))
              RETURNING x.subscriber_id, x.email, x.variant)
            SELECT claimed.subscriber_id, claimed.email, COALESCE(s.name, ''), COALESCE(s.attributes, '{}')::text, claimed.variant
            FROM claimed LEFT JOIN campaigns.subscribers s ON s.id = claimed.subscriber_id
            """, logger: database.logger
        ).decode((UUID, String, String, String, String?).self) {
            recipients.append(
                Recipient(
                    subscriberID: subscriber, email: email, name: name,
                    attributes: (try? JSONDecoder().decode([String: JSONValue].self, from: Data(attributes.utf8))) ?? [:], variant: variant))
        }
        return recipients
    }

    /// The server accepted it: recorded at once, so no restart sends it again.
    func sent(_ campaign: UUID, subscriber: UUID, messageID: String, tenant: UUID) async throws {
        _ = try await database.withTenant(tenant) { connection in
            try await connection.query(
                """
                WITH done AS (
                  UPDATE campaigns.campaign_sends SET state = 'sent', sent_at = now(), claimed_until = NULL, message_id = \(messageID), error = NULL
                  WHERE campaign_id = \(campaign) AND subscriber_id = \(subscriber))
                UPDATE campaigns.campaigns SET consecutive_failures = 0 WHERE id = \(campaign) AND consecutive_failures > 0
                """, logger: database.logger)
        }
    }

    /// Refused for good (5xx): a hard bounce; the address is suppressed for every campaign.
    func bounced(_ campaign: UUID, subscriber: UUID, email: String, reason: String, tenant: UUID) async throws {
        _ = try await database.withTenant(tenant) { connection in
            try await connection.query(
                """
                UPDATE campaigns.campaign_sends SET state = 'bounced', claimed_until = NULL, error = \(reason)
                WHERE campaign_id = \(campaign) AND subscriber_id = \(subscriber)
                """, logger: database.logger)
            _ = try await SuppressionStore.add(email, reason: "hard_bounce", detail: reason, tenant: tenant, database: database, on: connection)
        }
    }

    /// Not sent this time (connection, 4xx): waiting again, or failed after `maxAttempts`.
    /// Answers true when the campaign paused itself for too many failures in a row.
    func failed(_ campaign: UUID, subscriber: UUID, reason: String, maxAttempts: Int, tenant: UUID) async throws -> Bool {
        try await database.withTenant(tenant) { connection in
            try await connection.query(
                """
                UPDATE campaigns.campaign_sends SET claimed_until = NULL, error = \(reason),
                  state = CASE WHEN attempts >= \(maxAttempts) THEN 'failed' ELSE 'queued' END
                WHERE campaign_id = \(campaign) AND subscriber_id = \(subscriber)
                """, logger: database.logger)
            for try await paused in try await connection.query(
                """
                UPDATE campaigns.campaigns SET consecutive_failures = consecutive_failures + 1,
                  state = CASE WHEN state = 'running' AND consecutive_failures + 1 >= max_consecutive_failures THEN 'paused' ELSE state END,
                  pause_reason = CASE WHEN state = 'running' AND consecutive_failures + 1 >= max_consecutive_failures
                    THEN 'paused after ' || (consecutive_failures + 1) || ' failures in a row; the last: ' || \(reason) ELSE pause_reason END,
                  version = CASE WHEN state = 'running' AND consecutive_failures + 1 >= max_consecutive_failures THEN version + 1 ELSE version END
                WHERE id = \(campaign)
                RETURNING state = 'paused', consecutive_failures = max_consecutive_failures
                """, logger: database.logger
            ).decode((Bool, Bool).self) {
                // Announced once: by the failure that paused it.
                if paused.1, paused.0 {
                    try await CampaignStore.announce(campaign, CampaignTransition.pause.event, tenant: tenant, database: database, on: connection)
                }
                return paused.0
            }
            return false
        }
    }

    /// How many more the campaign may send under its hourly cap now, and when the oldest
    /// send in the window leaves it.
    func hourlyRoom(_ campaign: UUID, cap: Int, tenant: UUID) async throws -> (Int, Date?) {
        try await database.withTenant(tenant) { connection in
            for try await (count, oldest) in try await connection.query(
                """
                SELECT count(*)::int, min(sent_at) FROM campaigns.campaign_sends
                WHERE campaign_id = \(campaign) AND sent_at > now() - interval '1 hour'
                """, logger: database.logger
            ).decode((Int, Date?).self) {
                return (max(0, cap - count), oldest.map { $0.addingTimeInterval(3600) })
            }
            return (cap, nil)
        }
    }

    /// A claimed send not attempted (the campaign paused or was cancelled meanwhile).
    func release(_ campaign: UUID, subscribers: [UUID], tenant: UUID) async throws {
        guard !subscribers.isEmpty else { return }
        _ = try await database.withTenant(tenant) { connection in
            try await connection.query(
                """
                UPDATE campaigns.campaign_sends SET state = 'queued', claimed_until = NULL, attempts = greatest(attempts - 1, 0)
                WHERE campaign_id = \(campaign) AND subscriber_id = ANY(\(subscribers)) AND state = 'sending'
                """, logger: database.logger)
        }
    }

    /// A running campaign nothing waits in any more is finished; answers whether it was.
    func finishIfDone(_ campaign: UUID, tenant: UUID) async throws -> Bool {
        try await database.withTenant(tenant) { connection in
            for try await _ in try await connection.query(
                """
                UPDATE campaigns.campaigns SET state = 'finished', finished_at = now(), version = version + 1, updated_at = now()
                WHERE id = \(campaign) AND state = 'running'
                  AND NOT EXISTS (SELECT 1 FROM campaigns.campaign_sends WHERE campaign_id = \(campaign) AND state IN ('queued', 'sending'))
                  AND NOT EXISTS (SELECT 1 FROM campaigns.campaign_sends WHERE campaign_id = \(campaign) AND state = 'held')
                RETURNING 1
                """, logger: database.logger)
            {
                try await CampaignStore.withdrawDelivery(campaign, on: connection)
                try await CampaignStore.announce(campaign, CampaignTransition.finish.event, tenant: tenant, database: database, on: connection)
                return true
            }
            return false
        }
    }

    /// Whether the campaign is still running (a sender checks between messages).
    func running(_ campaign: UUID, tenant: UUID) async throws -> Bool {
        try await database.withTenant(tenant) { connection in
            for try await state in try await connection.query(
                "SELECT state FROM campaigns.campaigns WHERE id = \(campaign)", logger: database.logger
            ).decode(String.self) {
                return state == "running"
            }
            return false
        }
    }
}
