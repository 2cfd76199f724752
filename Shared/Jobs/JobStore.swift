import Foundation
import Logging
import Persistence
import PostgresNIO

/// A job a worker has claimed.
struct ClaimedJob: Sendable {
    var id: Int64
    var tenantID: UUID
    var kind: String
    var arguments: String
    var attempt: Int
    var maxAttempts: Int
    var timeoutSeconds: Int
    /// Seconds between becoming due and being claimed.
    var claimLatency: Double
}

/// The worker's SQL.
struct JobStore: Sendable {
    let database: Database
    var schema: String { database.schema }
    let logger = Logger(label: "jobs")

    /// Claims up to `limit` ready jobs of `queue`, fairly across tenants: tenants take
    /// turns (those after `after` first, so the same tenants do not always go first) and
    /// each gets an equal share of the batch, in priority order within the tenant. A
    /// tenant with 100,000 ready jobs gets no more of a batch than one with ten.
    func claim(queue: String, limit: Int, after: UUID?, worker: String, lease: Duration) async throws -> [ClaimedJob] {
        let after = after ?? UUID(uuidString: JobTables.systemTenant) ?? UUID()
        let rows = try await database.query(
            """
            WITH RECURSIVE tenants(tenant_id) AS (
                (SELECT tenant_id FROM \(unescaped: schema).jobs WHERE state = 'available' AND queue = \(queue) ORDER BY tenant_id LIMIT 1)
              UNION ALL
                SELECT (SELECT j.tenant_id FROM \(unescaped: schema).jobs j
                        WHERE j.state = 'available' AND j.queue = \(queue) AND j.tenant_id > t.tenant_id ORDER BY j.tenant_id LIMIT 1)
                FROM tenants t WHERE t.tenant_id IS NOT NULL
            ),
            turns AS (
              SELECT tenant_id FROM tenants WHERE tenant_id IS NOT NULL
              ORDER BY (tenant_id <= \(after)), tenant_id LIMIT \(limit)
            ),
            picked AS (
              SELECT j.id FROM turns t CROSS JOIN LATERAL (
                SELECT id FROM \(unescaped: schema).jobs
                WHERE state = 'available' AND queue = \(queue) AND tenant_id = t.tenant_id
                ORDER BY priority, run_at, id
                LIMIT GREATEST(1, ceil(\(limit)::numeric / (SELECT count(*) FROM turns)))
                FOR UPDATE SKIP LOCKED
              ) j
              LIMIT \(limit)
            )
            UPDATE \(unescaped: schema).jobs AS jobs
            SET state = 'running', attempt = jobs.attempt + 1, locked_by = \(worker),
                locked_until = now() + make_interval(secs => \(Self.seconds(lease))), attempted_at = now()
            FROM picked WHERE jobs.id = picked.id
            RETURNING jobs.id, jobs.tenant_id, jobs.kind, jobs.args::text, jobs.attempt, jobs.max_attempts, jobs.timeout_seconds,
                      extract(epoch FROM now() - jobs.run_at)::float8
            """, logger: logger)
        var jobs: [ClaimedJob] = []
        for try await (id, tenant, kind, arguments, attempt, maxAttempts, timeout, latency) in rows.decode(
            (Int64, UUID, String, String, Int, Int, Int, Double).self)
        {
            jobs.append(
                ClaimedJob(
                    id: id, tenantID: tenant, kind: kind, arguments: arguments, attempt: attempt, maxAttempts: maxAttempts, timeoutSeconds: timeout,
                    claimLatency: max(0, latency)))
        }
        return jobs
    }

    func complete(_ ids: [Int64], worker: String) async throws {
        try await database.query(
            """
            UPDATE \(unescaped: schema).jobs SET state = 'succeeded', finished_at = now(), locked_by = NULL, locked_until = NULL
            WHERE id = ANY(\(ids)) AND state = 'running' AND locked_by = \(worker)
            """, logger: logger)
    }

    /// Records the error; the job is retried after `retryIn` or, out of attempts, discarded.
    /// Answers whether it was discarded.
    @discardableResult
    func fail(_ id: Int64, worker: String, error: String, retryIn: Duration) async throws -> Bool {
        let rows = try await database.query(
            """
            UPDATE \(unescaped: schema).jobs SET
              state = CASE WHEN attempt >= max_attempts THEN 'discarded' ELSE 'scheduled' END,
              run_at = CASE WHEN attempt >= max_attempts THEN run_at ELSE now() + make_interval(secs => \(Self.seconds(retryIn))) END,
              finished_at = CASE WHEN attempt >= max_attempts THEN now() END,
              errors = errors || jsonb_build_array(jsonb_build_object('attempt', attempt, 'at', now(), 'error', \(String(error.prefix(2000))))),
              locked_by = NULL, locked_until = NULL
            WHERE id = \(id) AND state = 'running' AND locked_by = \(worker)
            RETURNING state
            """, logger: logger)
        for try await state in rows.decode(String.self) { return state == "discarded" }
        return false
    }

    /// Gives running jobs back without counting the attempt (shutdown, rate limit).
    func release(_ ids: [Int64], worker: String, after delay: Duration = .zero) async throws {
        guard !ids.isEmpty else { return }
        try await database.query(
            """
            UPDATE \(unescaped: schema).jobs SET
              state = CASE WHEN \(Self.seconds(delay)) > 0 THEN 'scheduled' ELSE 'available' END,
              run_at = now() + make_interval(secs => \(Self.seconds(delay))), attempt = greatest(0, attempt - 1),
              locked_by = NULL, locked_until = NULL
            WHERE id = ANY(\(ids)) AND state = 'running' AND locked_by = \(worker)
            """, logger: logger)
    }

    /// Extends the leases of the jobs this worker is running.
    func heartbeat(_ ids: [Int64], worker: String, lease: Duration) async throws {
        guard !ids.isEmpty else { return }
        try await database.query(
            """
            UPDATE \(unescaped: schema).jobs SET locked_until = now() + make_interval(secs => \(Self.seconds(lease)))
            WHERE id = ANY(\(ids)) AND state = 'running' AND locked_by = \(worker)
            """, logger: logger)
    }

    /// Scheduled jobs whose time has come become available; answers how many.
    func promoteDue() async throws -> Int {
        let rows = try await database.query(
            """
            WITH due AS (
              SELECT id FROM \(unescaped: schema).jobs WHERE state = 'scheduled' AND run_at <= now()
              ORDER BY run_at LIMIT 10000 FOR UPDATE SKIP LOCKED
            )
            UPDATE \(unescaped: schema).jobs AS jobs SET state = 'available' FROM due WHERE jobs.id = due.id RETURNING jobs.id
            """, logger: logger)
        var count = 0
        for try await _ in rows { count += 1 }
        return count
    }

    /// Jobs whose worker died (lease expired) are retried, or discarded when out of attempts.
    func rescueExpired() async throws -> Int {
        let rows = try await database.query(
            """
            WITH lost AS (
              SELECT id FROM \(unescaped: schema).jobs WHERE state = 'running' AND locked_until < now()
              LIMIT 1000 FOR UPDATE SKIP LOCKED
            )
            UPDATE \(unescaped: schema).jobs AS jobs SET
              state = CASE WHEN attempt >= max_attempts THEN 'discarded' ELSE 'available' END,
              finished_at = CASE WHEN attempt >= max_attempts THEN now() END,
              errors = errors || jsonb_build_array(jsonb_build_object(
                'attempt', attempt, 'at', now(), 'error', 'worker ' || coalesce(locked_by, '?') || ' lost its lease (crashed or stalled)')),
              locked_by = NULL, locked_until = NULL
            FROM lost WHERE jobs.id = lost.id
            RETURNING jobs.id
            """, logger: logger)
        var count = 0
        for try await _ in rows { count += 1 }
        return count
    }

    /// Succeeded jobs are kept for inspection for `retention`, then deleted in slices.
    func prune(olderThan retention: Duration) async throws {
        try await database.query(
            """
            DELETE FROM \(unescaped: schema).jobs WHERE id IN (
              SELECT id FROM \(unescaped: schema).jobs WHERE state = 'succeeded' AND finished_at < now() - make_interval(secs => \(Self.seconds(retention)))
              LIMIT 10000)
            """, logger: logger)
    }

    func pausedQueues() async throws -> Set<String> {
        var paused: Set<String> = []
        for try await name in try await database.query(
            "SELECT name FROM \(unescaped: schema).job_queues WHERE paused", logger: logger
        ).decode(String.self) {
            paused.insert(name)
        }
        return paused
    }

    /// Jobs per queue, kind and state, for the gauges.
    func counts() async throws -> [(queue: String, kind: String, state: String, count: Int)] {
        var counts: [(String, String, String, Int)] = []
        for try await row in try await database.query(
            """
            SELECT queue, kind, state, count(*)::int FROM \(unescaped: schema).jobs
            WHERE state IN ('scheduled', 'available', 'running', 'discarded') GROUP BY queue, kind, state
            """, logger: logger
        ).decode((String, String, String, Int).self) {
            counts.append(row)
        }
        return counts
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

extension JobStore {
    func lastCronSlot(_ name: String) async throws -> Date? {
        for try await slot in try await database.query(
            "SELECT max(slot) FROM \(unescaped: schema).cron_runs WHERE name = \(name)", logger: logger
        ).decode(Date?.self) {
            return slot
        }
        return nil
    }

    /// Claims a slot; false when another replica fired it already.
    func recordCronSlot(_ name: String, _ slot: Date, on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.query(
            "INSERT INTO \(unescaped: schema).cron_runs (name, slot) VALUES (\(name), \(slot)) ON CONFLICT DO NOTHING RETURNING 1", logger: logger)
        for try await _ in rows { return true }
        return false
    }

    func attachCronJob(_ name: String, _ slot: Date, job: Int64?, on connection: PostgresConnection) async throws {
        try await connection.query(
            "UPDATE \(unescaped: schema).cron_runs SET job_id = \(job) WHERE name = \(name) AND slot = \(slot)", logger: logger)
    }
}
