import Foundation
import Jobs
import Persistence
import PostgresNIO

/// A registered endpoint as the admin API shows it (never with its secret).
struct WebhookEndpoint: Codable, Sendable, Equatable {
    var id: UUID
    var url: String
    var description: String
    /// Empty: every event type.
    var eventTypes: [String]
    var disabled: Bool
    var disabledReason: String?
    var failingSince: Date?
    var secretRotatesUntil: Date?
    var createdAt: Date
}

struct WebhookDeliveryView: Codable, Sendable, Equatable {
    struct Attempt: Codable, Sendable, Equatable {
        var at: Date
        var statusCode: Int?
        var latencyMs: Int
        var error: String?
    }
    var id: UUID
    var messageId: UUID
    var eventType: String
    var state: String
    var attempts: [Attempt]
    var nextAttemptAt: Date?
    var createdAt: Date
}

/// What a delivery attempt needs.
struct PendingWebhook: Sendable {
    var endpoint: UUID
    var url: String
    var secrets: [String]
    var message: UUID
    var body: String
    var attempts: Int
    var failingSince: Date?
}

struct WebhookJob: Codable, Sendable {
    var deliveryId: UUID
}

/// Endpoints, the messages made for them, their deliveries and every attempt.
struct WebhookStore: Sendable {
    let database: Database
    let deliver: JobKind<WebhookJob>
    private var jobs: JobQueue { JobQueue(schema: "notifications") }
    /// The queue starts its claimed deliveries together and most of them succeed close
    /// together: their lookups, and their successes, are one transaction per tenant.
    private let lookups: BatchedCalls<UUID, UUID, PendingWebhook?>
    private let successes: BatchedCalls<UUID, Success, Void>

    init(database: Database, deliver: JobKind<WebhookJob>) {
        self.database = database
        self.deliver = deliver
        lookups = .lookups { tenant, deliveries in try await Self.pending(deliveries, tenant: tenant, database: database) }
        successes = .writes { tenant, successes in try await Self.record(successes, tenant: tenant, database: database) }
    }

    private static let endpointColumns =
        "id, url, description, event_types, disabled_at IS NOT NULL, disabled_reason, failing_since, CASE WHEN previous_secret_expires_at > now() THEN previous_secret_expires_at END, created_at"

    private func endpoints(_ rows: PostgresRowSequence) async throws -> [WebhookEndpoint] {
        var endpoints: [WebhookEndpoint] = []
        for try await (id, url, description, types, disabled, reason, failing, rotates, created) in rows.decode(
            (UUID, String, String, [String], Bool, String?, Date?, Date?, Date).self)
        {
            endpoints.append(
                WebhookEndpoint(
                    id: id, url: url, description: description, eventTypes: types, disabled: disabled, disabledReason: reason, failingSince: failing,
                    secretRotatesUntil: rotates, createdAt: created))
        }
        return endpoints
    }

    func create(url: String, description: String, eventTypes: [String], secret: String, tenant: UUID) async throws -> WebhookEndpoint {
        try await database.withTenant(tenant) { connection in
            try await endpoints(
                try await connection.query(
                    """
                    INSERT INTO notifications.webhook_endpoints (id, tenant_id, url, description, event_types, secret)
                    VALUES (\(UUID.v7()), \(tenant), \(url), \(description), \(eventTypes), \(secret))
                    RETURNING \(unescaped: Self.endpointColumns)
                    """, logger: database.logger)
            )[0]
        }
    }

    func list(tenant: UUID) async throws -> [WebhookEndpoint] {
        try await database.withTenant(tenant) { connection in
            try await endpoints(
                try await connection.query(
                    "SELECT \(unescaped: Self.endpointColumns) FROM notifications.webhook_endpoints ORDER BY created_at, id", logger: database.logger)
            )
        }
    }

    func get(_ id: UUID, tenant: UUID) async throws -> WebhookEndpoint? {
        try await database.withTenant(tenant) { connection in
            try await endpoints(
                try await connection.query(
                    "SELECT \(unescaped: Self.endpointColumns) FROM notifications.webhook_endpoints WHERE id = \(id)", logger: database.logger)
            ).first
        }
    }

    func delete(_ id: UUID, tenant: UUID) async throws -> Bool {
        try await database.withTenant(tenant) { connection in
            for try await _ in try await connection.query(
                "DELETE FROM notifications.webhook_endpoints WHERE id = \(id) RETURNING 1", logger: database.logger)
            {
                return true
            }
            return false
        }
    }

    /// The new secret signs from now on; the old one keeps signing alongside until `overlap` ends.
    func rotate(_ id: UUID, secret: String, overlap: TimeInterval, tenant: UUID) async throws -> WebhookEndpoint? {
        try await database.withTenant(tenant) { connection in
            try await endpoints(
                try await connection.query(
                    """
                    UPDATE notifications.webhook_endpoints
                    SET previous_secret = secret, previous_secret_expires_at = now() + make_interval(secs => \(overlap)), secret = \(secret), updated_at = now()
                    WHERE id = \(id) RETURNING \(unescaped: Self.endpointColumns)
                    """, logger: database.logger)
            ).first
        }
    }

    func enable(_ id: UUID, tenant: UUID) async throws -> WebhookEndpoint? {
        try await database.withTenant(tenant) { connection in
            try await endpoints(
                try await connection.query(
                    """
                    UPDATE notifications.webhook_endpoints SET disabled_at = NULL, disabled_reason = NULL, failing_since = NULL, updated_at = now()
                    WHERE id = \(id) RETURNING \(unescaped: Self.endpointColumns)
                    """, logger: database.logger)
            ).first
        }
    }

    /// A domain event as a webhook message: its id, type and the body to sign and send.
    struct Incoming: Sendable {
        var eventID: UUID
        var type: String
        var body: String
    }

    /// Makes the message for each source event (once) and a delivery with a job for every
    /// active endpoint that wants its type: one statement for the tenant's whole batch.
    func fanOut(_ events: [Incoming], tenant: UUID) async throws {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                """
                WITH endpoints AS (
                  SELECT id, event_types FROM notifications.webhook_endpoints WHERE disabled_at IS NULL
                ), incoming AS (
                  SELECT * FROM unnest(\(events.map(\.eventID))::uuid[], \(events.map(\.type))::text[], \(events.map(\.body))::text[])
                    AS e(source_event_id, event_type, body)
                ), messages AS (
                  INSERT INTO notifications.webhook_messages (id, tenant_id, event_type, source_event_id, body)
                  SELECT gen_random_uuid(), \(tenant), e.event_type, e.source_event_id, e.body FROM incoming e
                  WHERE EXISTS (SELECT 1 FROM endpoints p WHERE p.event_types = '{}' OR e.event_type = ANY (p.event_types))
                  ON CONFLICT (tenant_id, source_event_id) DO NOTHING
                  RETURNING id, event_type
                )
                INSERT INTO notifications.webhook_deliveries (id, tenant_id, endpoint_id, message_id, state, next_attempt_at)
                SELECT gen_random_uuid(), \(tenant), p.id, m.id, 'pending', now()
                FROM messages m JOIN endpoints p ON p.event_types = '{}' OR m.event_type = ANY (p.event_types)
                RETURNING id
                """, logger: database.logger)
            var jobs: [(tenant: UUID, arguments: WebhookJob)] = []
            for try await (id, ) in rows.decode((UUID,).self) { jobs.append((tenant, WebhookJob(deliveryId: id))) }
            if !jobs.isEmpty { try await self.jobs.enqueueMany(deliver, jobs, on: connection) }
        }
    }

    func pending(_ delivery: UUID, tenant: UUID) async throws -> PendingWebhook? {
        try await lookups(delivery, key: tenant)
    }

    /// The endpoint and message are looked up by primary key in fenced subqueries (OFFSET
    /// 0): joined plainly, the planner was seen scanning the tenant's whole (tenant_id, id)
    /// index for one message, guessing a new tenant has only a few rows (8 ms per delivery).
    private static func pending(_ deliveries: [UUID], tenant: UUID, database: Database) async throws -> [UUID: PendingWebhook] {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                """
                SELECT d.id, e.id, e.url, e.secret, CASE WHEN e.previous_secret_expires_at > now() THEN e.previous_secret END,
                       m.id, m.body, d.attempts, e.failing_since
                FROM notifications.webhook_deliveries d
                CROSS JOIN LATERAL (SELECT * FROM notifications.webhook_endpoints WHERE id = d.endpoint_id OFFSET 0) e
                CROSS JOIN LATERAL (SELECT * FROM notifications.webhook_messages WHERE id = d.message_id OFFSET 0) m
                WHERE d.id = ANY(\(deliveries)) AND d.state = 'pending' AND e.disabled_at IS NULL
                """, logger: database.logger)
            var found: [UUID: PendingWebhook] = [:]
            for try await (delivery, endpoint, url, secret, previous, message, body, attempts, failing) in rows.decode(
                (UUID, UUID, String, String, String?, UUID, String, Int, Date?).self)
            {
                found[delivery] = PendingWebhook(
                    endpoint: endpoint, url: url, secrets: [secret] + (previous.map { [$0] } ?? []), message: message, body: body, attempts: attempts,
                    failingSince: failing)
            }
            return found
        }
    }

    /// A 2xx answer to one delivery.
    struct Success: Sendable {
        var delivery: UUID
        var endpoint: UUID
        var status: Int
        var latencyMs: Int
    }

    /// Records a successful attempt (gathered with others that succeed close to it).
    func recordSuccess(_ success: Success, tenant: UUID) async throws {
        try await successes(success, key: tenant)
    }

    /// Successful attempts of one tenant: the attempts, the deliveries' state and the end of
    /// their endpoints' failing streaks in one statement.
    private static func record(_ successes: [Success], tenant: UUID, database: Database) async throws {
        _ = try await database.withTenant(tenant) { connection in
            try await connection.query(
                """
                WITH done AS (
                  SELECT * FROM unnest(\(successes.map { _ in UUID.v7() })::uuid[], \(successes.map(\.delivery))::uuid[],
                                       \(successes.map(\.status))::int[], \(successes.map(\.latencyMs))::int[]) AS s(id, delivery_id, status_code, latency_ms)
                ), attempt AS (
                  INSERT INTO notifications.webhook_attempts (id, tenant_id, delivery_id, status_code, latency_ms, error)
                  SELECT id, \(tenant), delivery_id, status_code, latency_ms, NULL FROM done
                ), delivery AS (
                  UPDATE notifications.webhook_deliveries d
                  SET state = 'succeeded', attempts = d.attempts + 1, next_attempt_at = NULL, last_status = done.status_code, last_error = NULL,
                      updated_at = now()
                  FROM done WHERE d.id = done.delivery_id
                )
                UPDATE notifications.webhook_endpoints SET failing_since = NULL
                WHERE id = ANY(\(Array(Set(successes.map(\.endpoint))))) AND failing_since IS NOT NULL
                """, logger: database.logger)
        }
    }

    enum Outcome: Sendable {
        case succeeded
        /// Try again at this time.
        case retry(Date)
        /// Attempts exhausted.
        case failed
        /// The endpoint is gone (410) or has failed for too long.
        case disableEndpoint(String)
    }

    /// Records one attempt and its consequence; a retry gets a job of its own at its time.
    /// Answers true when this attempt disabled the endpoint.
    func record(
        _ delivery: UUID, _ pending: PendingWebhook, status: Int?, latencyMs: Int, error: String?, outcome: Outcome, tenant: UUID
    ) async throws -> Bool {
        try await database.withTenant(tenant) { connection in
            let (state, next): (String, Date?) =
                switch outcome {
                case .succeeded: ("succeeded", nil)
                case .retry(let at): ("pending", at)
                case .failed, .disableEndpoint: ("failed", nil)
                }
            let succeeded = if case .succeeded = outcome { true } else { false }
            // The attempt, the delivery's state and the endpoint's failing streak in one
            // statement. The endpoint row is written only when its streak starts or ends:
            // every delivery to it passes here, and a write each would queue them all on its lock.
            try await connection.query(
                """
                WITH attempt AS (
                  INSERT INTO notifications.webhook_attempts (id, tenant_id, delivery_id, status_code, latency_ms, error)
                  VALUES (\(UUID.v7()), \(tenant), \(delivery), \(status), \(latencyMs), \(error))
                ), delivery AS (
                  UPDATE notifications.webhook_deliveries
                  SET state = \(state), attempts = attempts + 1, next_attempt_at = \(next), last_status = \(status), last_error = \(error), updated_at = now()
                  WHERE id = \(delivery)
                )
                UPDATE notifications.webhook_endpoints SET failing_since = CASE WHEN \(succeeded) THEN NULL ELSE now() END
                WHERE id = \(pending.endpoint) AND (failing_since IS NULL) <> \(succeeded)
                """, logger: database.logger)
            switch outcome {
            case .succeeded, .failed:
                return false
            case .retry(let at):
                try await jobs.enqueue(deliver, WebhookJob(deliveryId: delivery), tenant: tenant, options: .init(runAt: at), on: connection)
                return false
            case .disableEndpoint(let reason):
                for try await _ in try await connection.query(
                    """
                    UPDATE notifications.webhook_endpoints SET disabled_at = now(), disabled_reason = \(reason), updated_at = now()
                    WHERE id = \(pending.endpoint) AND disabled_at IS NULL RETURNING 1
                    """, logger: database.logger)
                {
                    return true
                }
                return false
            }
        }
    }

    func deliveries(endpoint: UUID, tenant: UUID, before: Date?, limit: Int) async throws -> [WebhookDeliveryView] {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                """
                SELECT d.id, d.message_id, m.event_type, d.state, d.next_attempt_at, d.created_at,
                       COALESCE((SELECT json_agg(json_build_object('at', a.attempted_at, 'statusCode', a.status_code, 'latencyMs', a.latency_ms,
                                                                  'error', a.error) ORDER BY a.attempted_at)
                                 FROM notifications.webhook_attempts a WHERE a.delivery_id = d.id), '[]')::text
                FROM notifications.webhook_deliveries d JOIN notifications.webhook_messages m ON m.tenant_id = d.tenant_id AND m.id = d.message_id
                WHERE d.endpoint_id = \(endpoint) AND d.created_at < COALESCE(\(before)::timestamptz, 'infinity')
                ORDER BY d.created_at DESC, d.id DESC LIMIT \(limit)
                """, logger: database.logger)
            var views: [WebhookDeliveryView] = []
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .custom { decoder in
                let text = try decoder.singleValueContainer().decode(String.self)
                return Self.postgresTimestamp(text) ?? Date(timeIntervalSince1970: 0)
            }
            for try await (id, message, type, state, next, created, attempts) in rows.decode((UUID, UUID, String, String, Date?, Date, String).self) {
                views.append(
                    WebhookDeliveryView(
                        id: id, messageId: message, eventType: type, state: state,
                        attempts: (try? decoder.decode([WebhookDeliveryView.Attempt].self, from: Data(attempts.utf8))) ?? [], nextAttemptAt: next,
                        createdAt: created))
            }
            return views
        }
    }

    /// json_build_object writes timestamps as "2026-11-23T10:05:02.123456+00:00".
    static func postgresTimestamp(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text) ?? ISO8601DateFormatter().date(from: text)
    }

    /// Puts a failed (or pending) delivery of this endpoint back in the queue now; nil when
    /// the endpoint has no such delivery.
    func retry(_ delivery: UUID, endpoint: UUID, tenant: UUID) async throws -> Bool {
        try await database.withTenant(tenant) { connection in
            var found = false
            for try await _ in try await connection.query(
                """
                UPDATE notifications.webhook_deliveries SET state = 'pending', next_attempt_at = now(), updated_at = now()
                WHERE id = \(delivery) AND endpoint_id = \(endpoint) AND state <> 'succeeded' RETURNING 1
                """, logger: database.logger)
            {
                found = true
            }
            if found { try await jobs.enqueue(deliver, WebhookJob(deliveryId: delivery), tenant: tenant, on: connection) }
            return found
        }
    }

    /// Every failed delivery of the endpoint since `since`, queued again (at most 1,000).
    func replayFailed(endpoint: UUID, since: Date, tenant: UUID) async throws -> Int {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                """
                UPDATE notifications.webhook_deliveries SET state = 'pending', next_attempt_at = now(), updated_at = now()
                WHERE id IN (SELECT id FROM notifications.webhook_deliveries
                             WHERE endpoint_id = \(endpoint) AND state = 'failed' AND created_at >= \(since) ORDER BY created_at LIMIT 1000)
                RETURNING id
                """, logger: database.logger)
            var ids: [UUID] = []
            for try await (id, ) in rows.decode((UUID,).self) { ids.append(id) }
            for id in ids { try await jobs.enqueue(deliver, WebhookJob(deliveryId: id), tenant: tenant, on: connection) }
            return ids.count
        }
    }
}
