import Contracts
import Foundation
import Logging
import Metrics
import Persistence
import PostgresNIO
import ServiceKit
import ServiceLifecycle
import Synchronization

/// Publishes a service's outbox to Kafka, in id order, and marks rows published.
///
/// Woken by `LISTEN <schema>_outbox` (a trigger notifies on insert), with a polling
/// fallback for lost notifications and for retries while the broker is down. A
/// transaction-level advisory lock makes one replica the publisher at a time, so rows
/// of one key go out in the order they were written. A row is marked only after its
/// delivery report: a broker outage delays events, it never loses them.
///
/// The relay owns its producer and replaces it at once when librdkafka says it failed for
/// good (an idempotent producer whose broker lost its state in a restart delivers nothing
/// more), and after `replaceProducerAfter` failed passes in a row for anything else that
/// keeps it stuck. A replacement may publish an event twice; consumers are idempotent
/// (inbox). While the broker is down, passes are retried at most `maxBackoff` apart, so
/// events written meanwhile go out within seconds of its return.
public struct OutboxRelay: Service {
    public typealias ProducerFactory = @Sendable () throws -> KafkaProducer
    let database: Database
    let makeProducer: ProducerFactory
    let replaceProducerAfter = 3
    let maxBackoff: Duration = .seconds(2)
    let logger: Logger
    let batchSize: Int
    let pollInterval: Duration
    let wake = Wakeup()
    let schemaReady: ReadyFlag
    let ensureTopics: @Sendable () async throws -> Void
    let ageInterval: Duration

    /// `schemaReady`: the relay starts once the outbox table exists (migrations applied).
    /// `ensureTopics` creates the topics the relay publishes to, if they are missing; it runs
    /// after the producer lost every broker, before anything is published again.
    public init(
        database: Database, logger: Logger, schemaReady: ReadyFlag, batchSize: Int = 500,
        pollInterval: Duration = .seconds(1), ageInterval: Duration = .seconds(10), ensureTopics: @escaping @Sendable () async throws -> Void = {},
        makeProducer: @escaping ProducerFactory
    ) {
        self.ageInterval = ageInterval
        self.schemaReady = schemaReady
        self.ensureTopics = ensureTopics
        self.database = database
        self.makeProducer = makeProducer
        self.logger = logger
        self.batchSize = batchSize
        self.pollInterval = pollInterval
    }

    public func run() async throws {
        do { try await schemaReady.wait() } catch { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await listenForInserts() }
            group.addTask { await publishLoop() }
            group.addTask { await reportAge() }
            await group.next()
            group.cancelAll()
        }
    }

    func publishLoop() async {
        var failures = 0
        var lastPurge = ContinuousClock.now
        var producer: KafkaProducer?
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                if let lost = producer, lost.lostItsBrokers {
                    // Throws while the broker is still away: the pass is retried after a backoff.
                    try await ensureTopics()
                    logger.info("the broker is back; topics checked, publishing with a new producer")
                    await lost.shutdown()
                    producer = nil
                }
                let stuck = failures >= replaceProducerAfter && failures % replaceProducerAfter == 0
                if producer == nil || stuck || producer?.hasFailedForGood == true {
                    if let old = producer {
                        logger.warning("replacing the outbox producer after repeated failures")
                        await old.shutdown()
                    }
                    producer = try makeProducer()
                }
                guard let producer else { continue }
                let (published, failed) = try await publishBatch(producer)
                failures = failed > 0 ? failures + 1 : 0
                // Failed for good: the next pass, at once, has a new producer.
                if failed > 0, producer.hasFailedForGood { continue }
                if ContinuousClock.now - lastPurge > .seconds(600) {
                    lastPurge = .now
                    try await purgePublished()
                }
                if published == batchSize && failed == 0 { continue }
            } catch is CancellationError {
                return
            } catch {
                failures += 1
                logger.warning("outbox relay pass failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            // Back off while the broker or database is down; otherwise wait for a wake-up.
            let wait = failures > 0 ? min(pollInterval * (1 << min(failures, 4)), maxBackoff) : pollInterval
            await sleep(upTo: wait)
        }
        await producer?.shutdown()
    }

    /// Every `ageInterval` (10 s), how long the oldest unpublished row has waited (0 when none), as
    /// `outbox_oldest_unpublished_seconds{schema}`: while the broker is away it grows, and the
    /// alert says so. It is read apart from the publishing, which fails while the broker is away.
    func reportAge() async {
        let schema = database.schema
        let gauge = Gauge(label: "outbox_oldest_unpublished_seconds", dimensions: [("schema", schema)])
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // While the database is away the last figure stands.
            if let rows = try? await database.client.query(
                """
                SELECT extract(epoch FROM now() - created_at)::float8 FROM \(unescaped: schema).outbox
                WHERE published_at IS NULL ORDER BY id LIMIT 1
                """, logger: logger
            ).collect() {
                gauge.record((try? rows.first?.decode(Double.self)) ?? 0)
            }
            try? await Task.sleep(for: ageInterval)
        }
    }

    func sleep(upTo limit: Duration) async {
        await wake.wait(upTo: limit)
    }

    func listenForInserts() async {
        await database.listen(on: "\(database.schema)_outbox") { [wake] _ in wake.raise() }
    }

    /// Published rows are kept a week for inspection and replay, then deleted.
    func purgePublished() async throws {
        try await database.client.query(
            "DELETE FROM \(unescaped: database.schema).outbox WHERE published_at < now() - interval '7 days'", logger: logger)
    }

    struct Row {
        var id: Int64
        var envelope: EventEnvelope
        var extraHeaders: [(String, String)]
    }

    /// Publishes one batch; returns how many rows were published and how many failed.
    func publishBatch(_ producer: KafkaProducer) async throws -> (Int, Int) {
        let schema = database.schema
        let lockKey = "\(schema).outbox-relay"
        return try await database.withTransaction { connection in
            let locked =
                try await connection.query("SELECT pg_try_advisory_xact_lock(hashtext(\(lockKey)))", logger: logger)
                .decode(Bool.self).first { _ in true } ?? false
            guard locked else { return (0, 0) }
            var rows: [Row] = []
            let query: PostgresQuery = """
                SELECT id, event_id, topic, message_key, tenant_id, event_type, source, subject, occurred_at, traceparent, payload,
                       extra_headers::text
                FROM \(unescaped: schema).outbox WHERE published_at IS NULL ORDER BY id LIMIT \(batchSize)
                """
            for try await (id, eventID, topic, key, tenant, type, source, subject, time, traceparent, payload, extra) in try await connection.query(
                query, logger: logger
            ).decode((Int64, UUID, String, String, UUID, String, String, String, Date, String?, ByteBuffer, String?).self) {
                let envelope = EventEnvelope(
                    id: eventID, type: type, source: source, time: time, subject: subject, tenantID: tenant,
                    traceparent: traceparent, key: key, topic: topic, data: Data(buffer: payload)
                )
                let pairs = extra.flatMap { try? JSONDecoder().decode([[String]].self, from: Data($0.utf8)) } ?? []
                rows.append(Row(id: id, envelope: envelope, extraHeaders: pairs.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil }))
            }
            guard !rows.isEmpty else { return (0, 0) }
            let results = await producer.send(
                rows.map {
                    OutgoingMessage(
                        topic: $0.envelope.topic, key: $0.envelope.key, value: Array($0.envelope.data), headers: $0.envelope.headers + $0.extraHeaders
                    )
                })
            let published = zip(rows, results).filter { $0.1 == nil }.map(\.0.id)
            let refused = zip(rows, results).filter { $0.1?.isPermanent == true }
            let failed = zip(rows, results).filter { $0.1 != nil && $0.1?.isPermanent != true }
            for (row, error) in refused {
                try await deadLetter(row, error: error.map { "\($0)" } ?? "", on: connection)
            }
            if !published.isEmpty {
                try await connection.query(
                    """
                    UPDATE \(unescaped: schema).outbox SET published_at = now(), payload = CASE WHEN secret THEN ''::bytea ELSE payload END
                    WHERE id = ANY(\(published))
                    """, logger: logger)
            }
            if let (_, error) = failed.first {
                let ids = failed.map(\.0.id)
                try await connection.query(
                    "UPDATE \(unescaped: schema).outbox SET attempts = attempts + 1, last_error = \(String(describing: error)) WHERE id = ANY(\(ids))",
                    logger: logger)
                logger.warning(
                    "outbox events not delivered yet; will retry", metadata: ["count": "\(failed.count)", "error": "\(error.map { "\($0)" } ?? "")"])
            }
            Counter(label: "outbox_published_total", dimensions: [("schema", schema)]).increment(by: published.count)
            return (published.count + refused.count, failed.count)
        }
    }

    /// A row the broker will never accept would otherwise be retried forever and hold up
    /// every row after it. It leaves the queue (marked published and dead-lettered, its
    /// payload kept in the outbox for the week published rows are kept), and a notice
    /// without the payload goes to `dlq.<service>`, so the relay keeps flowing and an
    /// alert on `outbox_dead_lettered_total` tells someone.
    func deadLetter(_ row: Row, error: String, on connection: PostgresConnection) async throws {
        let schema = database.schema
        let event = row.envelope
        let notice = EventEnvelope(
            id: .v7(), type: event.type, source: event.source, time: event.time, subject: event.subject, tenantID: event.tenantID,
            traceparent: event.traceparent, key: event.key, topic: Topic.deadLetter(for: schema).name, data: Data())
        try await Outbox(schema: schema).append(
            notice,
            extraHeaders: [
                ("dlq_error", String(error.prefix(1000))), ("dlq_topic", event.topic), ("dlq_event_id", event.id.uuidString.lowercased()),
                ("dlq_payload", "omitted: \(event.data.count) bytes, kept in \(schema).outbox"),
            ],
            on: connection)
        try await connection.query(
            """
            UPDATE \(unescaped: schema).outbox SET published_at = now(), attempts = attempts + 1, last_error = \("dead-lettered: " + error),
              payload = CASE WHEN secret THEN ''::bytea ELSE payload END
            WHERE id = \(row.id)
            """, logger: logger)
        Counter(label: "outbox_dead_lettered_total", dimensions: [("schema", schema), ("topic", event.topic)]).increment()
        logger.error(
            "outbox event refused by the broker for good; dead-lettered",
            metadata: ["event_id": "\(event.id)", "topic": "\(event.topic)", "bytes": "\(event.data.count)", "error": "\(error)"])
    }
}
