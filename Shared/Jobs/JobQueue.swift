import Foundation
import Logging
import PostgresNIO

/// Enqueues jobs in the caller's transaction, so a job exists exactly when the change
/// that caused it committed.
public struct JobQueue: Sendable {
    public let schema: String

    public init(schema: String) {
        self.schema = schema
    }

    public struct Options: Sendable {
        public var runAt: Date?
        /// While a job with this kind and key is pending or running, enqueueing another is a no-op.
        public var uniqueKey: String?
        public var priority: Int?
        public var queue: String?
        /// Jobs (of the same tenant) this one waits on: it runs once all of them have
        /// succeeded, and is discarded if one of them is.
        public var after: [Int64]

        public init(runAt: Date? = nil, uniqueKey: String? = nil, priority: Int? = nil, queue: String? = nil, after: [Int64] = []) {
            self.runAt = runAt
            self.uniqueKey = uniqueKey
            self.priority = priority
            self.queue = queue
            self.after = after
        }
    }

    public enum EnqueueError: Error, Equatable {
        /// Some jobs named in `after` do not exist (or are another tenant's).
        case unknownDependencies([Int64])
        case emptyBatch
    }

    /// The new job's id, or nil when a unique job with the same key is already pending.
    @discardableResult
    public func enqueue<Arguments>(
        _ kind: JobKind<Arguments>, _ arguments: Arguments, tenant: UUID?, options: Options = Options(), on connection: PostgresConnection
    ) async throws -> Int64? {
        let json = String(decoding: try JSONEncoder.jobs.encode(arguments), as: UTF8.self)
        let tenant = tenant ?? UUID(uuidString: JobTables.systemTenant) ?? UUID()
        let priority = min(4, max(0, options.priority ?? kind.priority))
        if !options.after.isEmpty {
            return try await enqueueWaiting(kind, json: json, tenant: tenant, priority: priority, options: options, on: connection)
        }
        let rows = try await connection.query(
            """
            INSERT INTO \(unescaped: schema).jobs
              (tenant_id, kind, queue, args, state, priority, max_attempts, timeout_seconds, run_at, unique_key)
            VALUES (\(tenant), \(kind.name), \(options.queue ?? kind.queue), \(json)::jsonb,
                    CASE WHEN \(options.runAt)::timestamptz > now() THEN 'scheduled' ELSE 'available' END,
                    \(priority), \(kind.maxAttempts), \(Int(kind.timeout.components.seconds)), COALESCE(\(options.runAt)::timestamptz, now()), \(options.uniqueKey))
            ON CONFLICT (kind, unique_key) WHERE unique_key IS NOT NULL AND state IN ('scheduled', 'available', 'running') DO NOTHING
            RETURNING id
            """, logger: Self.quiet)
        for try await id in rows.decode(Int64.self) { return id }
        return nil
    }

    /// A job that waits on others. One statement: marking the jobs waited on (so their end
    /// looks for waiters) locks them, so none can end unseen between the check and the insert.
    private func enqueueWaiting<Arguments>(
        _ kind: JobKind<Arguments>, json: String, tenant: UUID, priority: Int, options: Options, on connection: PostgresConnection
    ) async throws -> Int64? {
        let rows = try await connection.query(
            """
            WITH deps AS (
              UPDATE \(unescaped: schema).jobs SET has_dependents = true
              WHERE id = ANY(\(options.after)::bigint[]) AND tenant_id = \(tenant)
              RETURNING id, state
            ), input AS (
              SELECT count(*) AS found, count(*) FILTER (WHERE state = 'discarded') AS lost,
                     array_agg(id) FILTER (WHERE state NOT IN ('succeeded', 'discarded')) AS pending,
                     array_agg(id) AS known
              FROM deps
            ), inserted AS (
              INSERT INTO \(unescaped: schema).jobs
                (tenant_id, kind, queue, args, state, priority, max_attempts, timeout_seconds, run_at, unique_key, waiting_on, finished_at, errors)
              SELECT \(tenant), \(kind.name), \(options.queue ?? kind.queue), \(json)::jsonb,
                     CASE WHEN lost > 0 THEN 'discarded' WHEN pending IS NOT NULL THEN 'waiting'
                          WHEN \(options.runAt)::timestamptz > now() THEN 'scheduled' ELSE 'available' END,
                     \(priority), \(kind.maxAttempts), \(Int(kind.timeout.components.seconds)), COALESCE(\(options.runAt)::timestamptz, now()),
                     \(options.uniqueKey), pending, CASE WHEN lost > 0 THEN now() END,
                     CASE WHEN lost > 0 THEN jsonb_build_array(jsonb_build_object('attempt', 0, 'at', now(), 'error', 'a job it waits on was discarded'))
                          ELSE '[]'::jsonb END
              FROM input WHERE found = cardinality(\(options.after)::bigint[])
              ON CONFLICT (kind, unique_key) WHERE unique_key IS NOT NULL AND state IN ('scheduled', 'available', 'running') DO NOTHING
              RETURNING id
            )
            SELECT (SELECT id FROM inserted), COALESCE((SELECT known FROM input), '{}')
            """, logger: Self.quiet)
        for try await (id, known) in rows.decode((Int64?, [Int64]).self) {
            let missing = Set(options.after).subtracting(known)
            if !missing.isEmpty { throw EnqueueError.unknownDependencies(missing.sorted()) }
            return id
        }
        return nil
    }

    /// Jobs of one kind enqueued as a batch, and `callback`, enqueued exactly once when all of
    /// them have ended (succeeded or discarded), with the counts and `callbackArguments`.
    /// Answers the batch id (progress: `JobAdminStore.batch`).
    public func enqueueBatch<Arguments, Callback>(
        _ kind: JobKind<Arguments>, _ arguments: [Arguments], tenant: UUID?, then callback: JobKind<BatchOutcome<Callback>>,
        _ callbackArguments: Callback, on connection: PostgresConnection
    ) async throws -> UUID {
        guard !arguments.isEmpty else { throw EnqueueError.emptyBatch }
        let id = UUID()
        let tenant = tenant ?? UUID(uuidString: JobTables.systemTenant) ?? UUID()
        let payloads = try arguments.map { String(decoding: try JSONEncoder.jobs.encode($0), as: UTF8.self) }
        let callbackJSON = String(decoding: try JSONEncoder.jobs.encode(callbackArguments), as: UTF8.self)
        try await connection.query(
            """
            WITH batch AS (
              INSERT INTO \(unescaped: schema).job_batches
                (id, tenant_id, total, callback_kind, callback_queue, callback_args, callback_priority, callback_max_attempts, callback_timeout_seconds)
              VALUES (\(id), \(tenant), \(payloads.count), \(callback.name), \(callback.queue), \(callbackJSON)::jsonb, \(callback.priority),
                      \(callback.maxAttempts), \(Int(callback.timeout.components.seconds)))
              RETURNING id
            )
            INSERT INTO \(unescaped: schema).jobs (tenant_id, kind, queue, args, state, priority, max_attempts, timeout_seconds, batch_id)
            SELECT \(tenant), \(kind.name), \(kind.queue), a::jsonb, 'available', \(kind.priority), \(kind.maxAttempts),
                   \(Int(kind.timeout.components.seconds)), (SELECT id FROM batch)
            FROM unnest(\(payloads)::text[]) AS a
            """, logger: Self.quiet)
        return id
    }

    /// Many jobs of one kind in one statement (imports, fan-out, a consumer's batch);
    /// `runAt`, when given, holds each job's time (nil: now).
    public func enqueueMany<Arguments>(
        _ kind: JobKind<Arguments>, _ arguments: [(tenant: UUID, arguments: Arguments)], runAt: [Date?]? = nil, on connection: PostgresConnection
    ) async throws {
        guard !arguments.isEmpty else { return }
        let tenants = arguments.map(\.tenant)
        let payloads = try arguments.map { String(decoding: try JSONEncoder.jobs.encode($0.arguments), as: UTF8.self) }
        // PostgresNIO binds no optionals inside arrays: -1 stands for "now".
        let times = (runAt ?? []).map { $0?.timeIntervalSince1970 ?? -1 } + Array(repeating: -1, count: max(0, arguments.count - (runAt?.count ?? 0)))
        try await connection.query(
            """
            INSERT INTO \(unescaped: schema).jobs (tenant_id, kind, queue, args, state, priority, max_attempts, timeout_seconds, run_at)
            SELECT t, \(kind.name), \(kind.queue), a::jsonb, CASE WHEN at > now() THEN 'scheduled' ELSE 'available' END,
                   \(kind.priority), \(kind.maxAttempts), \(Int(kind.timeout.components.seconds)), at
            FROM unnest(\(tenants)::uuid[], \(payloads)::text[], \(times)::float8[]) AS input(t, a, r)
            CROSS JOIN LATERAL (SELECT CASE WHEN r < 0 THEN now() ELSE to_timestamp(r) END AS at) AS time
            """, logger: Self.quiet)
    }

    /// Takes back the pending jobs of `kind` with exactly these arguments (the work they
    /// stood for is gone: a campaign paused, an upload completed). Jobs running now, and jobs
    /// others wait on, stay.
    public func withdraw<Arguments>(_ kind: JobKind<Arguments>, _ arguments: Arguments, on connection: PostgresConnection) async throws {
        let json = String(decoding: try JSONEncoder.jobs.encode(arguments), as: UTF8.self)
        try await connection.query(
            """
            DELETE FROM \(unescaped: schema).jobs
            WHERE kind = \(kind.name) AND args = \(json)::jsonb AND state IN ('available', 'scheduled')
              AND NOT has_dependents AND batch_id IS NULL
            """, logger: Self.quiet)
    }

    static let quiet = Logger(label: "jobs")
}

/// What a batch's callback job is given: the batch, how its jobs ended, and the arguments
/// the batch was enqueued with.
public struct BatchOutcome<Arguments: Codable & Sendable>: Codable, Sendable {
    public var batchId: UUID
    public var total: Int
    public var succeeded: Int
    public var discarded: Int
    public var arguments: Arguments
}
