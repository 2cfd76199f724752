import Foundation
import PostgresNIO

/// `GET /v1/tasks/stats`: counts for the tenant and for the caller (tasks assigned to
/// them, or created by them and assigned to nobody), with days read in the caller's zone.
struct TaskStats: Codable, Sendable {
    struct Day: Codable, Sendable, Equatable {
        var date: String
        var completed: Int
    }

    struct Scope: Codable, Sendable {
        var open: Int
        var done: Int
        var overdue: Int
        /// The last 30 days, oldest first, today last.
        var completedPerDay: [Day]
        /// Days in a row, up to today, with at least one completion (today may still be
        /// empty without breaking it).
        var currentStreak: Int
    }

    var timeZone: String
    var tenant: Scope
    var me: Scope
}

extension TaskStore {
    /// `user` nil (an API client): "me" is empty.
    func stats(tenant: UUID, user: UUID?, timeZone: TimeZone) async throws -> TaskStats {
        try await database.withTenant(tenant) { connection in
            TaskStats(
                timeZone: timeZone.identifier,
                tenant: try await scope(all: true, user: nil, zone: timeZone, on: connection),
                me: try await scope(all: false, user: user, zone: timeZone, on: connection))
        }
    }

    private func scope(all: Bool, user: UUID?, zone: TimeZone, on connection: PostgresConnection) async throws -> TaskStats.Scope {
        let rows = try await connection.query(
            """
            SELECT count(*) FILTER (WHERE status NOT IN ('done', 'cancelled'))::int,
                   count(*) FILTER (WHERE status = 'done')::int,
                   count(*) FILTER (WHERE status NOT IN ('done', 'cancelled') AND due_at < now())::int
            FROM tasks.tasks
            WHERE deleted_at IS NULL AND (\(all) OR assignee_id = \(user) OR (assignee_id IS NULL AND created_by = \(user)))
            """, logger: database.logger)
        var counts = (0, 0, 0)
        for try await row in rows.decode((Int, Int, Int).self) { counts = row }
        var perDay: [String: Int] = [:]
        for try await (day, count) in try await connection.query(
            """
            SELECT to_char(completed_at AT TIME ZONE \(zone.identifier), 'YYYY-MM-DD'), count(*)::int FROM tasks.tasks
            WHERE deleted_at IS NULL AND status = 'done' AND completed_at > now() - interval '400 days'
              AND (\(all) OR assignee_id = \(user) OR (assignee_id IS NULL AND created_by = \(user)))
            GROUP BY 1
            """, logger: database.logger
        ).decode((String, Int).self) {
            perDay[day] = count
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let formatter = DateFormatter()
        formatter.calendar = calendar
        formatter.timeZone = zone
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd"
        let today = calendar.startOfDay(for: Date())
        func day(_ offset: Int) -> String {
            formatter.string(from: calendar.date(byAdding: .day, value: -offset, to: today) ?? today)
        }
        let last30 = (0..<30).reversed().map { TaskStats.Day(date: day($0), completed: perDay[day($0)] ?? 0) }
        var streak = 0
        var offset = (perDay[day(0)] ?? 0) > 0 ? 0 : 1
        while offset < 400, (perDay[day(offset)] ?? 0) > 0 {
            streak += 1
            offset += 1
        }
        return TaskStats.Scope(open: counts.0, done: counts.1, overdue: counts.2, completedPerDay: last30, currentStreak: streak)
    }
}
