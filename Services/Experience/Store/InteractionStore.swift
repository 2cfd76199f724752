import Contracts
import Foundation
import Persistence
import PostgresNIO
import ServiceKit

/// The interaction log's SQL: recording batches, once per event id.
struct InteractionStore: Sendable {
    let database: Database
    var counters: CounterStore { CounterStore(database: database) }
    static let source = "/services/experience"

    /// What became of a batch: the interactions recorded now, and the item keys that name no
    /// item of the tenant (their interactions were not recorded).
    struct Recorded: Sendable {
        var interactions: [Interaction]
        var unknownItems: Set<String>
    }

    /// Records the interactions on the tenant's items whose event ids it has not sent before;
    /// in the same transaction publishes each on `experience.interaction.v1` and counts them
    /// (summed per item and hour first, so a batch of 500 is a few rows).
    func record(_ interactions: [Interaction], tenant: UUID) async throws -> Recorded {
        guard !interactions.isEmpty else { return Recorded(interactions: [], unknownItems: []) }
        do {
            return try await recordOnce(interactions, tenant: tenant)
        } catch let error as PSQLError where error.serverInfo?[.message]?.hasPrefix("no partition of relation") == true {
            // A day the upkeep has not made yet (it makes them days ahead, hourly): make it.
            try await InteractionPartitions(database: database).ensure(days: interactions.map(\.occurredAt))
            return try await recordOnce(interactions, tenant: tenant)
        }
    }

    private func recordOnce(_ interactions: [Interaction], tenant: UUID) async throws -> Recorded {
        try await database.withTenant(tenant) { connection in
            var known: Set<String> = []
            for try await key in try await connection.query(
                "SELECT key FROM experience.items WHERE tenant_id = \(tenant) AND key = ANY(\(Array(Set(interactions.map(\.itemKey)))))",
                logger: database.logger
            ).decode(String.self) {
                known.insert(key)
            }
            let onItems = interactions.filter { known.contains($0.itemKey) }
            let unknown = Set(interactions.map(\.itemKey)).subtracting(known)
            guard !onItems.isEmpty else { return Recorded(interactions: [], unknownItems: unknown) }
            let batch = String(decoding: try PlatformJSON.encoder.encode(onItems.map(Row.init)), as: UTF8.self)
            let rows = try await connection.query(
                """
                WITH incoming AS (
                  SELECT DISTINCT ON (event_id) * FROM jsonb_to_recordset(\(batch)::jsonb)
                    AS x(event_id text, user_key text, item_key text, kind text, progress int, occurred_at timestamptz)
                ), fresh AS (
                  INSERT INTO experience.interaction_ids (tenant_id, event_id)
                  SELECT \(tenant), event_id FROM incoming
                  ON CONFLICT DO NOTHING
                  RETURNING event_id
                )
                INSERT INTO experience.interactions (tenant_id, event_id, user_key, item_key, kind, progress, occurred_at)
                SELECT \(tenant), i.event_id, i.user_key, i.item_key, i.kind, i.progress, i.occurred_at
                FROM incoming i JOIN fresh USING (event_id)
                RETURNING event_id
                """, logger: database.logger)
            var recorded: Set<String> = []
            for try await id in rows.decode(String.self) { recorded.insert(id) }
            var seen: Set<String> = []
            let fresh = onItems.filter { recorded.contains($0.eventId) && seen.insert($0.eventId).inserted }
            let events = try fresh.map { interaction in
                try EventEnvelope.make(
                    InteractionRecorded(
                        tenantId: tenant, eventId: interaction.eventId, userKey: interaction.userKey, itemKey: interaction.itemKey,
                        kind: interaction.kind.rawValue, progress: interaction.progress, occurredAt: interaction.occurredAt),
                    type: InteractionRecorded.type, on: Topics.experienceInteraction, source: Self.source, tenantID: tenant)
            }
            try await database.outbox.append(events, on: connection)
            try await counters.add(CountBucket.sum(fresh), tenant: tenant, on: connection)
            return Recorded(interactions: fresh, unknownItems: unknown)
        }
    }

    /// One interaction as `jsonb_to_recordset` reads it.
    private struct Row: Encodable {
        var event_id, user_key, item_key, kind: String
        var progress: Int?
        var occurred_at: Date

        init(_ interaction: Interaction) {
            event_id = interaction.eventId
            user_key = interaction.userKey
            item_key = interaction.itemKey
            kind = interaction.kind.rawValue
            progress = interaction.progress
            occurred_at = interaction.occurredAt
        }
    }
}
