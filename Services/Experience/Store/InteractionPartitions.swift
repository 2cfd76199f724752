import Foundation
import Persistence
import PostgresNIO

/// The interaction log's upkeep: a partition for every day events may arrive for, none
/// older than the retention, and event ids forgotten once no repeat could be accepted.
/// Each partition is made or dropped on its own, waiting at most `lockWait` for its lock,
/// so the upkeep gives way to traffic and tries again next hour.
struct InteractionPartitions: Sendable {
    let database: Database
    /// Days kept in the log.
    static let retentionDays = 180
    static let lockWait = "5s"

    /// Returns how many old days were dropped.
    @discardableResult
    func maintain(now: Date = Date()) async throws -> Int {
        let today = Self.day(of: now)
        try await ensure(days: (-8...3).map { today.addingTimeInterval(Double($0) * 86400) })
        _ = try await database.withTransaction { connection in
            try await connection.query("SELECT set_config('app.upkeep', 'interaction_ids', true)", logger: database.logger)
            return try await connection.query(
                "DELETE FROM experience.interaction_ids WHERE received_at < now() - interval '8 days'", logger: database.logger
            ).collect().count
        }
        return try await dropDays(before: today.addingTimeInterval(-Double(Self.retentionDays) * 86400))
    }

    /// Makes the partitions of these days (UTC midnights) where missing.
    func ensure(days: some Sequence<Date>) async throws {
        for day in Set(days.map(Self.day(of:))).sorted() {
            _ = try await database.withTransaction { connection in
                try await connection.query("SET LOCAL lock_timeout = '\(unescaped: Self.lockWait)'", logger: database.logger)
                return try await connection.query(
                    "SELECT experience.ensure_interaction_partition((\(day) AT TIME ZONE 'UTC')::date)", logger: database.logger
                ).collect().count
            }
        }
    }

    /// Detaches (without blocking readers) and drops each day before `cutoff`.
    private func dropDays(before cutoff: Date) async throws -> Int {
        let old = try await database.query(
            """
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'experience.interactions'::regclass AND c.relname ~ '^interactions_[0-9]{8}$'
              AND to_date(substr(c.relname, 14), 'YYYYMMDD') < (\(cutoff) AT TIME ZONE 'UTC')::date
            ORDER BY 1
            """, logger: database.logger
        ).collect().map { try $0.decode(String.self) }
        for name in old {
            // The name matched ^interactions_[0-9]{8}$ above: safe in the statement.
            try await database.client.withConnection { connection in
                // Session-wide (DETACH CONCURRENTLY runs outside a transaction), so set back
                // before the connection returns to the pool, whatever happened.
                try await connection.query("SET lock_timeout = '\(unescaped: Self.lockWait)'", logger: database.logger)
                var failure: (any Error)?
                do {
                    do {
                        try await connection.query(
                            "ALTER TABLE experience.interactions DETACH PARTITION experience.\(unescaped: name) CONCURRENTLY", logger: database.logger
                        )
                    } catch {
                        // A detach interrupted earlier must be finished, not started again.
                        try await connection.query(
                            "ALTER TABLE experience.interactions DETACH PARTITION experience.\(unescaped: name) FINALIZE", logger: database.logger)
                    }
                    try await connection.query("DROP TABLE experience.\(unescaped: name)", logger: database.logger)
                } catch {
                    failure = error
                }
                try await connection.query("RESET lock_timeout", logger: database.logger)
                if let failure { throw failure }
            }
        }
        return old.count
    }

    /// The UTC midnight starting `date`'s day.
    static func day(of date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 86400).rounded(.down) * 86400)
    }
}
