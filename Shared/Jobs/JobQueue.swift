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

        public init(runAt: Date? = nil, uniqueKey: String? = nil, priority: Int? = nil, queue: String? = nil) {
            self.runAt = runAt
            self.uniqueKey = uniqueKey
            self.priority = priority
            self.queue = queue
        }
    }

    /// The new job's id, or nil when a unique job with the same key is already pending.
    @discardableResult
    public func enqueue<Arguments>(
        _ kind: JobKind<Arguments>, _ arguments: Arguments, tenant: UUID?, options: Options = Options(), on connection: PostgresConnection
    ) async throws -> Int64? {
        let json = String(decoding: try JSONEncoder.jobs.encode(arguments), as: UTF8.self)
        let tenant = tenant ?? UUID(uuidString: JobTables.systemTenant) ?? UUID()
        let priority = min(4, max(0, options.priority ?? kind.priority))
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

    static let quiet = Logger(label: "jobs")
}
