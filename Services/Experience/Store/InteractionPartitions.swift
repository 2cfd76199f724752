import Foundation
import Persistence

/// The interaction log's upkeep: a partition for every day events may arrive for, none
/// older than the retention, and event ids forgotten once no repeat could be accepted.
struct InteractionPartitions: Sendable {
    let database: Database
    /// Days kept in the log.
    static let retentionDays = 180

    /// Returns how many old days were dropped.
    @discardableResult
    func maintain(now: Date = Date()) async throws -> Int {
        try await database.withTransaction { connection in
            try await connection.query(
                """
                SELECT experience.ensure_interaction_partition(d::date)
                FROM generate_series((\(now) AT TIME ZONE 'UTC')::date - 8, (\(now) AT TIME ZONE 'UTC')::date + 3, interval '1 day') AS d
                """, logger: database.logger)
            try await connection.query("SELECT set_config('app.upkeep', 'interaction_ids', true)", logger: database.logger)
            try await connection.query(
                "DELETE FROM experience.interaction_ids WHERE received_at < now() - interval '8 days'", logger: database.logger)
            let dropped = try await connection.query(
                "SELECT experience.drop_interaction_partitions((\(now) AT TIME ZONE 'UTC')::date - \(Self.retentionDays)::int)",
                logger: database.logger
            ).collect().first.map { try $0.decode(Int.self) }
            return dropped ?? 0
        }
    }
}
