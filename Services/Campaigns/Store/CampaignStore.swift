import Contracts
import Foundation
import Jobs
import Persistence
import PostgresNIO
import ServiceKit

/// SQL for campaigns: their drafts, their states, and the audience frozen when they start.
struct CampaignStore: Sendable {
    let database: Database
    /// Recipients per delivery job.
    var chunkSize = 100

    static let columns = """
        id, name, template_id, template_version, from_name, from_email, reply_to, list_ids, segment_ids, data::text, state, scheduled_at,
        time_zone, rate_per_second, max_consecutive_failures, pause_reason, audience, started_at, finished_at, ab_test::text, winner, max_per_hour,
        version, created_at, updated_at
        """

    static func campaigns(_ rows: PostgresRowSequence) async throws -> [Campaign] {
        var found: [Campaign] = []
        for try await (
            id, name, template, templateVersion, fromName, fromEmail, replyTo, lists, segments, data, state, scheduledAt, timeZone, rate, maxFailures,
            pauseReason, audience, started, finished, abTest, winner, maxPerHour, version, created, updated
        ) in rows.decode(
            (
                UUID, String, UUID, Int, String, String, String?, [UUID], [UUID], String, String, Date?, String, Double, Int, String?, Int?, Date?,
                Date?, String?, String?, Int?, Int, Date, Date
            ).self)
        {
            found.append(
                Campaign(
                    id: id, name: name, templateId: template, templateVersion: templateVersion, fromName: fromName, fromEmail: fromEmail,
                    replyTo: replyTo, listIds: lists, segmentIds: segments,
                    data: (try? JSONDecoder().decode([String: JSONValue].self, from: Data(data.utf8))) ?? [:],
                    state: Campaign.State(rawValue: state) ?? .draft, scheduledAt: scheduledAt, timeZone: timeZone, ratePerSecond: rate,
                    maxConsecutiveFailures: maxFailures, pauseReason: pauseReason, audience: audience, startedAt: started, finishedAt: finished,
                    abTest: abTest.flatMap { try? JSONDecoder().decode(ABTest.self, from: Data($0.utf8)) }, maxPerHour: maxPerHour, winner: winner,
                    version: version,
                    createdAt: created, updatedAt: updated))
        }
        return found
    }

    func fetch(_ id: UUID, lock: Bool, on connection: PostgresConnection) async throws -> Campaign? {
        try await Self.campaigns(
            try await connection.query(
                "SELECT \(unescaped: Self.columns) FROM campaigns.campaigns WHERE id = \(id) \(unescaped: lock ? "FOR UPDATE" : "")",
                logger: database.logger)
        ).first
    }

    func get(_ id: UUID, tenant: UUID) async throws -> Campaign {
        try await database.withTenant(tenant) { connection in
            guard let found = try await fetch(id, lock: false, on: connection) else { throw CampaignsError.notFound }
            return found
        }
    }

    func list(tenant: UUID, state: Campaign.State?, before cursor: UUID?, limit: Int) async throws -> [Campaign] {
        try await database.withTenant(tenant) { connection in
            try await Self.campaigns(
                try await connection.query(
                    """
                    SELECT \(unescaped: Self.columns) FROM campaigns.campaigns
                    WHERE (\(state?.rawValue)::text IS NULL OR state = \(state?.rawValue)) AND (\(cursor)::uuid IS NULL OR id < \(cursor))
                    ORDER BY id DESC LIMIT \(limit)
                    """, logger: database.logger))
        }
    }

    /// The pinned version exists, the lists and segments are the tenant's; answers the
    /// version to pin (the latest when none is named).
    func checkReferences(_ campaign: Campaign, versionNamed: Bool, on connection: PostgresConnection) async throws -> Int {
        var latest: Int?
        for try await number in try await connection.query(
            "SELECT latest_version FROM campaigns.templates WHERE id = \(campaign.templateId)", logger: database.logger
        ).decode(Int.self) {
            latest = number
        }
        guard let latest else { throw CampaignsError.invalid("templateId", "must name a template of this tenant") }
        let version = versionNamed ? campaign.templateVersion : latest
        guard version >= 1, version <= latest else { throw CampaignsError.invalid("templateVersion", "the template has no version \(version)") }
        for variant in campaign.abTest?.variants ?? [] where (variant.templateVersion ?? 1) > latest {
            throw CampaignsError.invalid("abTest.variants", "the template has no version \(variant.templateVersion ?? 0)")
        }
        if !campaign.listIds.isEmpty {
            var known: Set<UUID> = []
            for try await id in try await connection.query(
                "SELECT id FROM campaigns.lists WHERE id = ANY(\(campaign.listIds))", logger: database.logger
            ).decode(UUID.self) {
                known.insert(id)
            }
            let missing = campaign.listIds.filter { !known.contains($0) }
            guard missing.isEmpty else { throw CampaignsError.listsMissing(missing) }
        }
        if !campaign.segmentIds.isEmpty {
            var known: Set<UUID> = []
            for try await id in try await connection.query(
                "SELECT id FROM campaigns.segments WHERE id = ANY(\(campaign.segmentIds))", logger: database.logger
            ).decode(UUID.self) {
                known.insert(id)
            }
            let missing = campaign.segmentIds.filter { !known.contains($0) }
            guard missing.isEmpty else {
                throw CampaignsError.invalid(
                    "segmentIds", "not segments of this tenant: \(missing.map { $0.uuidString.lowercased() }.joined(separator: ", "))")
            }
        }
        return version
    }

    func create(_ draft: Campaign, versionNamed: Bool, tenant: UUID) async throws -> Campaign {
        try await database.withTenant(tenant) { connection in
            let version = try await checkReferences(draft, versionNamed: versionNamed, on: connection)
            let rows = try await connection.query(
                """
                INSERT INTO campaigns.campaigns (id, tenant_id, name, template_id, template_version, from_name, from_email, reply_to,
                  list_ids, segment_ids, data, rate_per_second, max_consecutive_failures, ab_test, max_per_hour)
                VALUES (\(draft.id), \(tenant), \(draft.name), \(draft.templateId), \(version), \(draft.fromName), \(draft.fromEmail),
                        \(draft.replyTo), \(draft.listIds), \(draft.segmentIds), \(SubscriberStore.json(draft.data))::jsonb, \(draft.ratePerSecond),
                        \(draft.maxConsecutiveFailures), \(Self.json(draft.abTest))::jsonb, \(draft.maxPerHour))
                RETURNING \(unescaped: Self.columns)
                """, logger: database.logger)
            guard let created = try await Self.campaigns(rows).first else { throw CampaignsError.notFound }
            return created
        }
    }

    /// Only a draft changes; a started campaign sends what it was started with.
    func update(
        _ id: UUID, tenant: UUID, expectedVersion: Int?, versionNamed: Bool, change: @Sendable (Campaign) -> Campaign
    ) async throws -> Campaign {
        try await database.withTenant(tenant) { connection in
            guard let current = try await fetch(id, lock: true, on: connection) else { throw CampaignsError.notFound }
            if let expectedVersion, expectedVersion != current.version { throw CampaignsError.versionMismatch(current: current.version) }
            guard current.state == .draft else { throw CampaignsError.illegalTransition("edit", current.state.rawValue) }
            var next = change(current)
            if next == current { return current }
            next.templateVersion = try await checkReferences(
                next, versionNamed: versionNamed || next.templateId == current.templateId, on: connection)
            let rows = try await connection.query(
                """
                UPDATE campaigns.campaigns SET name = \(next.name), template_id = \(next.templateId), template_version = \(next.templateVersion),
                  from_name = \(next.fromName), from_email = \(next.fromEmail), reply_to = \(next.replyTo), list_ids = \(next.listIds),
                  segment_ids = \(next.segmentIds), data = \(SubscriberStore.json(next.data))::jsonb, rate_per_second = \(next.ratePerSecond),
                  max_consecutive_failures = \(next.maxConsecutiveFailures), ab_test = \(Self.json(next.abTest))::jsonb, max_per_hour = \(next.maxPerHour),
                  version = version + 1,
                  updated_at = now()
                WHERE id = \(id) RETURNING \(unescaped: Self.columns)
                """, logger: database.logger)
            guard let updated = try await Self.campaigns(rows).first else { throw CampaignsError.notFound }
            return updated
        }
    }

    /// Drafts, finished and cancelled campaigns go with their send records; one that may
    /// still send is cancelled first.
    func delete(_ id: UUID, tenant: UUID) async throws {
        try await database.withTenant(tenant) { connection in
            guard let current = try await fetch(id, lock: true, on: connection) else { throw CampaignsError.notFound }
            guard [.draft, .finished, .cancelled].contains(current.state) else {
                throw CampaignsError.illegalTransition("delete", current.state.rawValue)
            }
            try await connection.query("DELETE FROM campaigns.campaigns WHERE id = \(id)", logger: database.logger)
        }
    }

    /// Moves a campaign on: 409 for a move its state does not allow. Starting freezes the
    /// audience; starting and resuming queue the delivery jobs.
    func transition(
        _ id: UUID, _ move: CampaignTransition, tenant: UUID, expectedVersion: Int? = nil, at scheduledAt: Date? = nil, timeZone: String? = nil,
        reason: String? = nil, monthlyQuota: Int? = nil
    ) async throws -> Campaign {
        try await database.withTenant(tenant) { connection in
            guard let current = try await fetch(id, lock: true, on: connection) else { throw CampaignsError.notFound }
            if let expectedVersion, expectedVersion != current.version { throw CampaignsError.versionMismatch(current: current.version) }
            guard move.allowed(from: current.state) else { throw CampaignsError.illegalTransition(move.rawValue, current.state.rawValue) }
            if move == .start || move == .schedule, !(try await SenderStore.verified(current.fromEmail, on: connection, logger: database.logger)) {
                throw CampaignsError.invalid("fromEmail", "must be a sender address the tenant verified (/v1/admin/campaigns/senders)")
            }
            switch move {
            case .schedule:
                let at = scheduledAt ?? Date()
                try await connection.query(
                    """
                    UPDATE campaigns.campaigns SET state = 'scheduled', scheduled_at = \(at), time_zone = \(timeZone ?? "UTC")
                    WHERE id = \(id)
                    """, logger: database.logger)
                // Started by a job due then, in the tenant's turn like any other.
                try await JobQueue(schema: "campaigns").enqueue(
                    CampaignJobs.startScheduled, ScheduledStart(campaignId: id, at: at), tenant: tenant, options: .init(runAt: at), on: connection)
            case .start:
                guard !current.listIds.isEmpty || !current.segmentIds.isEmpty else {
                    throw CampaignsError.invalid("listIds", "a campaign needs lists or segments to send to")
                }
                let audience = try await freezeAudience(current, tenant: tenant, on: connection)
                if let monthlyQuota {
                    for try await sentThisMonth in try await connection.query(
                        """
                        SELECT COALESCE(sum(audience), 0)::int FROM campaigns.campaigns
                        WHERE started_at >= date_trunc('month', now()) AND id <> \(id)
                        """, logger: database.logger
                    ).decode(Int.self) where sentThisMonth + audience > monthlyQuota {
                        throw CampaignsError.quota("the plan allows \(monthlyQuota) campaign emails a month; \(sentThisMonth) went out this month")
                    }
                }
                try await connection.query(
                    """
                    UPDATE campaigns.campaigns SET state = 'running', audience = \(audience), started_at = now(),
                      time_zone = COALESCE(\(timeZone)::text, time_zone)
                    WHERE id = \(id)
                    """, logger: database.logger)
                try await queueDelivery(id, recipients: audience, tenant: tenant, on: connection)
                if let test = current.abTest, test.metric != .manual {
                    try await JobQueue(schema: "campaigns").enqueue(
                        CampaignJobs.pickWinner, WinnerArguments(campaignId: id), tenant: tenant,
                        options: .init(runAt: Date().addingTimeInterval(Double(test.waitMinutes) * 60)), on: connection)
                }
            case .resume:
                try await connection.query(
                    "UPDATE campaigns.campaigns SET state = 'running', pause_reason = NULL, consecutive_failures = 0 WHERE id = \(id)",
                    logger: database.logger)
                var waiting = 0
                for try await count in try await connection.query(
                    "SELECT count(*)::int FROM campaigns.campaign_sends WHERE campaign_id = \(id) AND state IN ('queued', 'sending')",
                    logger: database.logger
                ).decode(Int.self) {
                    waiting = count
                }
                try await queueDelivery(id, recipients: waiting, tenant: tenant, on: connection)
            case .pause:
                try await connection.query(
                    "UPDATE campaigns.campaigns SET state = 'paused', pause_reason = \(reason ?? "paused by hand") WHERE id = \(id)",
                    logger: database.logger)
                // Resume queues afresh for whoever still waits.
                try await Self.withdrawDelivery(id, on: connection)
            case .finish, .cancel:
                try await connection.query(
                    "UPDATE campaigns.campaigns SET state = \(move.to.rawValue), finished_at = now() WHERE id = \(id)", logger: database.logger)
                try await Self.withdrawDelivery(id, on: connection)
            }
            try await connection.query(
                "UPDATE campaigns.campaigns SET version = version + 1, updated_at = now() WHERE id = \(id)", logger: database.logger)
            try await Self.announce(id, move.event, tenant: tenant, database: database, on: connection)
            guard let moved = try await fetch(id, lock: false, on: connection) else { throw CampaignsError.notFound }
            return moved
        }
    }

    /// One send record per recipient: confirmed members of the lists and everyone the
    /// segments match, once each, enabled, not suppressed, and not someone who unsubscribed
    /// from a list and stays on none.
    func freezeAudience(_ campaign: Campaign, tenant: UUID, on connection: PostgresConnection) async throws -> Int {
        var parts: [SegmentExpression] = campaign.listIds.map { .onList($0, confirmedOnly: true) }
        for segment in campaign.segmentIds {
            for try await expression in try await connection.query(
                "SELECT expression FROM campaigns.segments WHERE id = \(segment)", logger: database.logger
            ).decode(String.self) {
                do {
                    parts.append(try SegmentExpression.parse(expression))
                } catch {
                    throw CampaignsError.segment(error)
                }
            }
        }
        guard let first = parts.first else { return 0 }
        let audience = SegmentSQL.condition(parts.dropFirst().reduce(first) { .or($0, $1) })
        // Right after a large import the statistics still say "a few rows", and the planner
        // nests loops over lists of a million (42 s for 20,000 measured): hash joins instead.
        try await connection.query("SET LOCAL enable_nestloop = off", logger: database.logger)
        var count = 0
        for try await inserted in try await connection.query(
            audience.query { sql in
                """
                WITH added AS (
                  INSERT INTO campaigns.campaign_sends (tenant_id, campaign_id, subscriber_id, email)
                  SELECT \(sql.bind(tenant)), \(sql.bind(campaign.id)), s.id, s.email FROM campaigns.subscribers s
                  WHERE (\(audience.text)) AND s.status = 'enabled'
                    AND NOT EXISTS (SELECT 1 FROM campaigns.suppressions x WHERE x.email = s.email)
                    AND NOT (EXISTS (SELECT 1 FROM campaigns.list_members m WHERE m.subscriber_id = s.id AND m.status = 'unsubscribed')
                             AND NOT EXISTS (SELECT 1 FROM campaigns.list_members m WHERE m.subscriber_id = s.id AND m.status = 'confirmed'))
                  ON CONFLICT DO NOTHING RETURNING 1)
                SELECT count(*)::int FROM added
                """
            }, logger: database.logger
        ).decode(Int.self) {
            count = inserted
        }
        try await connection.query("SET LOCAL enable_nestloop = on", logger: database.logger)
        if let test = campaign.abTest {
            // A hash of campaign and subscriber puts each recipient in the test share (or not)
            // and picks its variant: the same on every run.
            let names = test.variants.map(\.name)
            try await connection.query(
                """
                UPDATE campaigns.campaign_sends SET
                  state = CASE WHEN abs(hashtext(campaign_id::text || subscriber_id::text)) % 100 < \(test.testPercent) THEN 'queued' ELSE 'held' END,
                  variant = CASE WHEN abs(hashtext(campaign_id::text || subscriber_id::text)) % 100 < \(test.testPercent)
                    THEN (\(names)::text[])[1 + abs(hashtext(subscriber_id::text || campaign_id::text)) % \(names.count)] END
                WHERE campaign_id = \(campaign.id)
                """, logger: database.logger)
        }
        return count
    }

    /// Enough delivery jobs for the recipients waiting, a chunk each (one more finishes an
    /// empty campaign).
    func queueDelivery(_ campaign: UUID, recipients: Int, tenant: UUID, on connection: PostgresConnection) async throws {
        let jobs = max(1, (recipients + chunkSize - 1) / chunkSize)
        try await JobQueue(schema: "campaigns").enqueueMany(
            CampaignJobs.deliver, Array(repeating: (tenant, DeliverArguments(campaignId: campaign)), count: jobs), on: connection)
    }

    /// The delivery jobs still waiting for a campaign that no longer sends: left queued, each
    /// would still be claimed (and paced at the tenant's rate) only to find nothing to do.
    static func withdrawDelivery(_ campaign: UUID, on connection: PostgresConnection) async throws {
        try await JobQueue(schema: "campaigns").withdraw(CampaignJobs.deliver, DeliverArguments(campaignId: campaign), on: connection)
    }

    static func json(_ test: ABTest?) -> String? {
        test.flatMap { try? JSONEncoder().encode($0) }.map { String(decoding: $0, as: UTF8.self) }
    }

    /// How each variant of an A/B test did: sent, and distinct openers and clickers.
    func variantResults(_ campaign: Campaign, on connection: PostgresConnection) async throws -> [VariantResult] {
        guard let test = campaign.abTest else { return [] }
        var results: [VariantResult] = []
        for variant in test.variants {
            for try await (sent, opens, clicks) in try await connection.query(
                """
                SELECT count(*) FILTER (WHERE x.state = 'sent')::int,
                       (SELECT count(DISTINCT t.subscriber_id)::int FROM campaigns.tracking_events t JOIN campaigns.campaign_sends y
                          ON y.campaign_id = t.campaign_id AND y.subscriber_id = t.subscriber_id
                        WHERE t.campaign_id = \(campaign.id) AND t.kind = 'open' AND y.variant = \(variant.name)),
                       (SELECT count(DISTINCT t.subscriber_id)::int FROM campaigns.tracking_events t JOIN campaigns.campaign_sends y
                          ON y.campaign_id = t.campaign_id AND y.subscriber_id = t.subscriber_id
                        WHERE t.campaign_id = \(campaign.id) AND t.kind = 'click' AND y.variant = \(variant.name))
                FROM campaigns.campaign_sends x WHERE x.campaign_id = \(campaign.id) AND x.variant = \(variant.name)
                """, logger: database.logger
            ).decode((Int, Int, Int).self) {
                results.append(
                    VariantResult(
                        name: variant.name, sent: sent, uniqueOpens: opens, uniqueClicks: clicks, openRate: Double(opens) / Double(max(1, sent)),
                        clickRate: Double(clicks) / Double(max(1, sent))))
            }
        }
        return results
    }

    /// Picks the A/B test's winner (by the metric, or the one named) and queues the held
    /// recipients with it; 409 when there is no test, a winner already, or the campaign is
    /// not running or paused.
    func pickWinner(_ id: UUID, named: String?, tenant: UUID) async throws -> Campaign {
        try await database.withTenant(tenant) { connection in
            guard let campaign = try await fetch(id, lock: true, on: connection) else { throw CampaignsError.notFound }
            guard let test = campaign.abTest else {
                throw CampaignsError.illegalTransition("pick a winner without an A/B test", campaign.state.rawValue)
            }
            guard campaign.winner == nil, [.running, .paused].contains(campaign.state) else {
                throw CampaignsError.illegalTransition("pick a winner now", campaign.winner == nil ? campaign.state.rawValue : "decided")
            }
            let winner: String
            if let named {
                guard test.variants.contains(where: { $0.name == named }) else {
                    throw CampaignsError.invalid("variant", "must be one of \(test.variants.map(\.name).joined(separator: ", "))")
                }
                winner = named
            } else {
                let results = try await variantResults(campaign, on: connection)
                let rate: (VariantResult) -> Double = test.metric == .click ? { $0.clickRate } : { $0.openRate }
                winner = results.max { rate($0) < rate($1) }?.name ?? test.variants[0].name
            }
            var released = 0
            for try await count in try await connection.query(
                """
                WITH released AS (
                  UPDATE campaigns.campaign_sends SET state = 'queued', variant = \(winner) WHERE campaign_id = \(id) AND state = 'held' RETURNING 1)
                SELECT count(*)::int FROM released
                """, logger: database.logger
            ).decode(Int.self) {
                released = count
            }
            try await connection.query(
                "UPDATE campaigns.campaigns SET winner = \(winner), version = version + 1, updated_at = now() WHERE id = \(id)",
                logger: database.logger)
            if campaign.state == .running { try await queueDelivery(id, recipients: released, tenant: tenant, on: connection) }
            guard let updated = try await fetch(id, lock: false, on: connection) else { throw CampaignsError.notFound }
            return updated
        }
    }

    static let source = "/services/campaigns"

    /// `campaigns.campaign.v1` for the state the campaign just reached, with its counts, in
    /// the transaction that reached it.
    static func announce(_ id: UUID, _ type: String, tenant: UUID, database: Database, on connection: PostgresConnection) async throws {
        for try await (name, state, audience, sent, failed, bounced, reason, version, updated) in try await connection.query(
            """
            SELECT c.name, c.state, COALESCE(c.audience, 0),
                   (SELECT count(*) FILTER (WHERE x.state = 'sent')::int FROM campaigns.campaign_sends x WHERE x.campaign_id = c.id),
                   (SELECT count(*) FILTER (WHERE x.state = 'failed')::int FROM campaigns.campaign_sends x WHERE x.campaign_id = c.id),
                   (SELECT count(*) FILTER (WHERE x.state = 'bounced')::int FROM campaigns.campaign_sends x WHERE x.campaign_id = c.id),
                   c.pause_reason, c.version, c.updated_at
            FROM campaigns.campaigns c WHERE c.id = \(id)
            """, logger: database.logger
        ).decode((String, String, Int, Int, Int, Int, String?, Int, Date).self) {
            let changed = CampaignChanged(
                campaignId: id, tenantId: tenant, name: name, state: state, audience: audience, sent: sent, failed: failed, bounced: bounced,
                pauseReason: reason, version: version, occurredAt: updated)
            try await database.outbox.append(
                try .make(changed, type: type, on: Topics.campaignsCampaign, source: source, tenantID: tenant), on: connection)
        }
    }

    func status(_ id: UUID, tenant: UUID) async throws -> CampaignStatus {
        try await database.withTenant(tenant) { connection in
            guard let campaign = try await fetch(id, lock: false, on: connection) else { throw CampaignsError.notFound }
            var counts: [String: Int] = [:]
            for try await (state, count) in try await connection.query(
                "SELECT state, count(*)::int FROM campaigns.campaign_sends WHERE campaign_id = \(id) GROUP BY state", logger: database.logger
            ).decode((String, Int).self) {
                counts[state] = count
            }
            var minutes: [CampaignStatus.Minute] = []
            for try await (minute, sent) in try await connection.query(
                """
                SELECT date_trunc('minute', sent_at), count(*)::int FROM campaigns.campaign_sends
                WHERE campaign_id = \(id) AND sent_at IS NOT NULL GROUP BY 1 ORDER BY 1 DESC LIMIT 60
                """, logger: database.logger
            ).decode((Date, Int).self) {
                minutes.insert(.init(minute: minute, sent: sent), at: 0)
            }
            return CampaignStatus(
                id: id, state: campaign.state, audience: campaign.audience ?? 0, queued: counts["queued"] ?? 0, sending: counts["sending"] ?? 0,
                sent: counts["sent"] ?? 0, failed: counts["failed"] ?? 0, bounced: counts["bounced"] ?? 0, pauseReason: campaign.pauseReason,
                startedAt: campaign.startedAt, finishedAt: campaign.finishedAt, perMinute: minutes,
                engagement: try await TrackingStore.counts(id, on: connection, logger: database.logger),
                variants: campaign.abTest == nil ? nil : try await variantResults(campaign, on: connection), winner: campaign.winner,
                held: counts["held"] ?? 0)
        }
    }
}
