import Foundation
import Hummingbird
import Logging
import Persistence
import PostgresNIO
import ServiceKit

/// The admin console's view of the job queue: a tenant's jobs, and the queues.
public struct JobAdminStore: Sendable {
    let database: Database
    var schema: String { database.schema }
    let logger = Logger(label: "jobs.admin")

    public init(database: Database) {
        self.database = database
    }

    public struct JobError: Codable, Sendable, Equatable {
        public var attempt: Int
        public var at: String
        public var error: String
    }

    public struct JobView: ResponseEncodable, Sendable {
        public var id: Int64
        public var kind: String
        public var queue: String
        public var state: String
        public var priority: Int
        public var attempt: Int
        public var maxAttempts: Int
        public var runAt: Date
        public var createdAt: Date
        public var attemptedAt: Date?
        public var finishedAt: Date?
        public var errors: [JobError]
    }

    struct Position: Codable {
        var id: Int64
    }

    public static let states: Set<String> = ["scheduled", "available", "running", "succeeded", "discarded"]

    private static let columns = "id, kind, queue, state, priority::int, attempt, max_attempts, run_at, created_at, attempted_at, finished_at, errors::text"

    private func views(_ rows: PostgresRowSequence) async throws -> [JobView] {
        var views: [JobView] = []
        for try await (id, kind, queue, state, priority, attempt, maxAttempts, runAt, createdAt, attemptedAt, finishedAt, errors) in rows.decode(
            (Int64, String, String, String, Int, Int, Int, Date, Date, Date?, Date?, String).self)
        {
            views.append(
                JobView(
                    id: id, kind: kind, queue: queue, state: state, priority: priority, attempt: attempt, maxAttempts: maxAttempts, runAt: runAt,
                    createdAt: createdAt, attemptedAt: attemptedAt, finishedAt: finishedAt,
                    errors: (try? JSONDecoder().decode([JobError].self, from: Data(errors.utf8))) ?? []))
        }
        return views
    }

    /// Newest first.
    public func list(tenant: UUID, state: String?, kind: String?, queue: String?, page: PageRequest) async throws -> Page<JobView> {
        let before = try page.decodedCursor(Position.self)?.id ?? Int64.max
        let rows = try await database.client.query(
            """
            SELECT \(unescaped: Self.columns) FROM \(unescaped: schema).jobs
            WHERE tenant_id = \(tenant) AND id < \(before)
              AND (\(state)::text IS NULL OR state = \(state)) AND (\(kind)::text IS NULL OR kind = \(kind))
              AND (\(queue)::text IS NULL OR queue = \(queue))
            ORDER BY id DESC LIMIT \(page.limit + 1)
            """, logger: logger)
        return Page(fetched: try await views(rows), limit: page.limit) { Position(id: $0.id) }
    }

    public func get(tenant: UUID, id: Int64) async throws -> JobView? {
        let rows = try await database.client.query(
            "SELECT \(unescaped: Self.columns) FROM \(unescaped: schema).jobs WHERE tenant_id = \(tenant) AND id = \(id)", logger: logger)
        return try await views(rows).first
    }

    public enum ChangeOutcome: Sendable {
        case changed(JobView)
        case notFound
        case conflict(state: String)
    }

    /// A discarded job runs again now, with one more attempt allowed.
    public func retry(tenant: UUID, id: Int64) async throws -> ChangeOutcome {
        try await change(tenant: tenant, id: id, allowedFrom: ["discarded"]) { connection in
            try await connection.query(
                """
                UPDATE \(unescaped: schema).jobs SET state = 'available', run_at = now(), finished_at = NULL,
                  max_attempts = greatest(max_attempts, attempt + 1)
                WHERE id = \(id)
                """, logger: logger)
        }
    }

    /// A job that has not started yet is discarded by hand; who did it joins its errors.
    public func discard(tenant: UUID, id: Int64, by actor: String) async throws -> ChangeOutcome {
        try await change(tenant: tenant, id: id, allowedFrom: ["scheduled", "available"]) { connection in
            try await connection.query(
                """
                UPDATE \(unescaped: schema).jobs SET state = 'discarded', finished_at = now(),
                  errors = errors || jsonb_build_array(jsonb_build_object('attempt', attempt, 'at', now(), 'error', \("discarded by " + actor)::text))
                WHERE id = \(id)
                """, logger: logger)
        }
    }

    private func change(
        tenant: UUID, id: Int64, allowedFrom: [String], update: (PostgresConnection) async throws -> Void
    ) async throws -> ChangeOutcome {
        try await database.withTransaction { connection in
            var current: String?
            for try await state in try await connection.query(
                "SELECT state FROM \(unescaped: schema).jobs WHERE tenant_id = \(tenant) AND id = \(id) FOR UPDATE", logger: logger
            ).decode(String.self) {
                current = state
            }
            guard let current else { return .notFound }
            guard allowedFrom.contains(current) else { return .conflict(state: current) }
            try await update(connection)
            let rows = try await connection.query(
                "SELECT \(unescaped: Self.columns) FROM \(unescaped: schema).jobs WHERE id = \(id)", logger: logger)
            guard let view = try await views(rows).first else { return .notFound }
            return .changed(view)
        }
    }

    public func setPaused(_ queue: String, _ paused: Bool) async throws {
        try await database.client.query(
            """
            INSERT INTO \(unescaped: schema).job_queues (name, paused) VALUES (\(queue), \(paused))
            ON CONFLICT (name) DO UPDATE SET paused = excluded.paused, updated_at = now()
            """, logger: logger)
    }

    public struct QueueView: ResponseEncodable, Sendable {
        public var name: String
        public var paused: Bool
        /// Jobs by state, across all tenants.
        public var jobs: [String: Int]
    }

    /// Every queue that has a setting or jobs.
    public func queues() async throws -> [QueueView] {
        var byName: [String: QueueView] = [:]
        for try await (name, paused) in try await database.client.query(
            "SELECT name, paused FROM \(unescaped: schema).job_queues", logger: logger
        ).decode((String, Bool).self) {
            byName[name] = QueueView(name: name, paused: paused, jobs: [:])
        }
        for try await (name, state, count) in try await database.client.query(
            "SELECT queue, state, count(*)::int FROM \(unescaped: schema).jobs GROUP BY queue, state", logger: logger
        ).decode((String, String, Int).self) {
            byName[name, default: QueueView(name: name, paused: false, jobs: [:])].jobs[state] = count
        }
        return byName.values.sorted { $0.name < $1.name }
    }

    public func queue(_ name: String) async throws -> QueueView {
        try await queues().first { $0.name == name } ?? QueueView(name: name, paused: false, jobs: [:])
    }
}
