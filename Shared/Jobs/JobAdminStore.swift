import Foundation
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

    public struct JobView: Codable, Sendable {
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

    public static let states: Set<String> = ["waiting", "scheduled", "available", "running", "succeeded", "discarded"]
    /// States of a job that has not started: these may be discarded or reprioritised.
    public static let pending = ["waiting", "scheduled", "available"]

    private static let columns =
        "id, kind, queue, state, priority::int, attempt, max_attempts, run_at, created_at, attempted_at, finished_at, errors::text"

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

    /// Which of a tenant's jobs a list, an export or a bulk action covers.
    public struct Filter: Sendable {
        public var state: String?
        public var kind: String?
        public var queue: String?

        public init(state: String? = nil, kind: String? = nil, queue: String? = nil) {
            self.state = state
            self.kind = kind
            self.queue = queue
        }
    }

    /// Newest first.
    public func list(tenant: UUID, state: String?, kind: String?, queue: String?, page: PageRequest) async throws -> Page<JobView> {
        let before = try page.decodedCursor(Position.self)?.id ?? Int64.max
        return Page(
            fetched: try await slice(tenant: tenant, Filter(state: state, kind: kind, queue: queue), before: before, limit: page.limit + 1),
            limit: page.limit
        ) { Position(id: $0.id) }
    }

    /// Up to `limit` jobs matching `filter` with ids below `before`, newest first.
    public func slice(tenant: UUID, _ filter: Filter, before: Int64, limit: Int) async throws -> [JobView] {
        let rows = try await database.query(
            """
            SELECT \(unescaped: Self.columns) FROM \(unescaped: schema).jobs
            WHERE tenant_id = \(tenant) AND id < \(before)
              AND (\(filter.state)::text IS NULL OR state = \(filter.state)) AND (\(filter.kind)::text IS NULL OR kind = \(filter.kind))
              AND (\(filter.queue)::text IS NULL OR queue = \(filter.queue))
            ORDER BY id DESC LIMIT \(limit)
            """, logger: logger)
        return try await views(rows)
    }

    // MARK: Bulk actions

    /// Every discarded job of the tenant matching `filter` runs again now, with one more
    /// attempt allowed. Answers how many.
    public func retryAll(tenant: UUID, _ filter: Filter) async throws -> Int {
        try await count(
            database.query(
                """
                UPDATE \(unescaped: schema).jobs SET state = 'available', run_at = now(), finished_at = NULL,
                  max_attempts = greatest(max_attempts, attempt + 1)
                WHERE tenant_id = \(tenant) AND state = 'discarded'
                  AND (\(filter.kind)::text IS NULL OR kind = \(filter.kind)) AND (\(filter.queue)::text IS NULL OR queue = \(filter.queue))
                RETURNING 1
                """, logger: logger))
    }

    /// Every job of the tenant matching `filter` that has not started is discarded; who did
    /// it joins its errors. Answers how many.
    public func discardAll(tenant: UUID, _ filter: Filter, by actor: String) async throws -> Int {
        let states = filter.state.map { [$0] } ?? Self.pending
        return try await count(
            database.query(
                """
                UPDATE \(unescaped: schema).jobs SET state = 'discarded', finished_at = now(),
                  errors = errors || jsonb_build_array(jsonb_build_object('attempt', attempt, 'at', now(), 'error', \("discarded by " + actor)::text))
                WHERE tenant_id = \(tenant) AND state = ANY(\(states)) AND state = ANY(\(Self.pending))
                  AND (\(filter.kind)::text IS NULL OR kind = \(filter.kind)) AND (\(filter.queue)::text IS NULL OR queue = \(filter.queue))
                RETURNING 1
                """, logger: logger))
    }

    /// Every job of the tenant matching `filter` that has not started gets `priority`
    /// (0 runs first). Answers how many.
    public func reprioritise(tenant: UUID, _ filter: Filter, priority: Int) async throws -> Int {
        try await count(
            database.query(
                """
                UPDATE \(unescaped: schema).jobs SET priority = \(priority)
                WHERE tenant_id = \(tenant) AND state = ANY(\(Self.pending))
                  AND (\(filter.kind)::text IS NULL OR kind = \(filter.kind)) AND (\(filter.queue)::text IS NULL OR queue = \(filter.queue))
                RETURNING 1
                """, logger: logger))
    }

    private func count(_ rows: PostgresRowSequence) async throws -> Int {
        var count = 0
        for try await _ in rows { count += 1 }
        return count
    }

    // MARK: Batches

    public struct BatchView: Codable, Sendable {
        public var id: UUID
        public var total: Int
        public var succeeded: Int
        public var discarded: Int
        /// Jobs of the batch by their state now.
        public var jobs: [String: Int]
        public var callbackJobId: Int64?
        public var createdAt: Date
        public var finishedAt: Date?
    }

    /// A batch's progress while it runs, and its end.
    public func batch(tenant: UUID, id: UUID) async throws -> BatchView? {
        var view: BatchView?
        for try await (total, succeeded, discarded, callback, created, finished) in try await database.query(
            """
            SELECT total, succeeded, discarded, callback_job_id, created_at, finished_at FROM \(unescaped: schema).job_batches
            WHERE id = \(id) AND tenant_id = \(tenant)
            """, logger: logger
        ).decode((Int, Int, Int, Int64?, Date, Date?).self) {
            view = BatchView(
                id: id, total: total, succeeded: succeeded, discarded: discarded, jobs: [:], callbackJobId: callback, createdAt: created,
                finishedAt: finished)
        }
        guard var view else { return nil }
        for try await (state, count) in try await database.query(
            "SELECT state, count(*)::int FROM \(unescaped: schema).jobs WHERE batch_id = \(id) GROUP BY state", logger: logger
        ).decode((String, Int).self) {
            view.jobs[state] = count
        }
        return view
    }

    public func get(tenant: UUID, id: Int64) async throws -> JobView? {
        let rows = try await database.query(
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
        try await change(tenant: tenant, id: id, allowedFrom: Self.pending) { connection in
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
        try await database.query(
            """
            INSERT INTO \(unescaped: schema).job_queues (name, paused) VALUES (\(queue), \(paused))
            ON CONFLICT (name) DO UPDATE SET paused = excluded.paused, updated_at = now()
            """, logger: logger)
    }

    public struct QueueView: Codable, Sendable {
        public var name: String
        public var paused: Bool
        /// Jobs by state, across all tenants.
        public var jobs: [String: Int]
    }

    /// Every queue that has a setting or jobs.
    public func queues() async throws -> [QueueView] {
        var byName: [String: QueueView] = [:]
        for try await (name, paused) in try await database.query(
            "SELECT name, paused FROM \(unescaped: schema).job_queues", logger: logger
        ).decode((String, Bool).self) {
            byName[name] = QueueView(name: name, paused: paused, jobs: [:])
        }
        for try await (name, state, count) in try await database.query(
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
