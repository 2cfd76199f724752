import Contracts
import Foundation
import Jobs
import Messaging
import Persistence
import PostgresNIO
import ServiceKit

/// The event as consumed, kept with its failure so it can be mapped again on replay.
struct StoredEvent: Codable, Sendable {
    var topic: String
    var key: String
    var headers: [String: String]
    /// The payload bytes, base64: they may not be JSON at all.
    var data: Data

    init(_ event: EventEnvelope) {
        topic = event.topic
        key = event.key
        headers = Dictionary(event.headers, uniquingKeysWith: { _, last in last })
        data = event.data
    }

    func envelope() throws -> EventEnvelope {
        try EventEnvelope(topic: topic, key: key, headers: headers, data: data)
    }
}

/// SQL for `failed_documents`: events the indexer could not apply, their retries, and
/// the dead-letter copy (through the outbox, so it is sent exactly when recorded).
struct FailureStore: Sendable {
    let database: Database
    let retryKind: JobKind<FailureRetry>
    let queue = JobQueue(schema: "search")

    enum State: String, Codable, Sendable, CaseIterable {
        case retrying, failed, resolved
    }

    struct Failure: Codable, Sendable, Equatable {
        var id: UUID
        var topic: String
        var eventId: UUID
        var eventType: String
        var docType: String?
        var docId: UUID?
        var error: String
        var attempts: Int
        var state: State
        var firstFailedAt: Date
        var lastFailedAt: Date
        var resolvedAt: Date?
    }

    static let columns = """
        id, topic, event_id, event_type, doc_type, doc_id, error, attempts, state, first_failed_at, last_failed_at, resolved_at
        """

    /// A poison event: it cannot mean a document, so it fails at once (no retries).
    func recordPoison(_ event: EventEnvelope, error: String) async throws {
        try await database.withTenant(event.tenantID) { connection in
            guard let id = try await insert(event, document: nil, error: error, state: .failed, on: connection) else { return }
            try await deadLetter(event, failure: id, error: error, on: connection)
        }
    }

    /// A document whose write failed: recorded, and retried by a job with backoff.
    func recordRetrying(_ document: IndexedDocument, from event: EventEnvelope, error: String) async throws {
        try await database.withTenant(event.tenantID) { connection in
            guard let id = try await insert(event, document: document, error: error, state: .retrying, on: connection) else { return }
            try await queue.enqueue(
                retryKind, FailureRetry(failureId: id), tenant: event.tenantID,
                options: .init(runAt: Date().addingTimeInterval(retryKind.retryDelay(1).seconds), uniqueKey: "failure-\(id)"), on: connection)
        }
    }

    private func insert(
        _ event: EventEnvelope, document: IndexedDocument?, error: String, state: State, on connection: PostgresConnection
    ) async throws -> UUID? {
        let stored = String(decoding: try PlatformJSON.encoder.encode(StoredEvent(event)), as: UTF8.self)
        let documentJSON = try document.map { String(decoding: try PlatformJSON.encoder.encode($0), as: UTF8.self) }
        let rows = try await connection.query(
            """
            INSERT INTO search.failed_documents (id, tenant_id, topic, event_id, event_type, doc_type, doc_id, event, document, error, state)
            VALUES (\(UUID.v7()), \(event.tenantID), \(event.topic), \(event.id), \(event.type), \(document?.type), \(document?.id),
                    \(stored)::jsonb, \(documentJSON)::jsonb, \(String(error.prefix(2000))), \(state.rawValue))
            ON CONFLICT (event_id) WHERE state <> 'resolved' DO NOTHING
            RETURNING id
            """, logger: database.logger)
        for try await id in rows.decode(UUID.self) { return id }
        return nil
    }

    /// The original event on `dlq.search`, with `dlq_failure`, the failure's id.
    private func deadLetter(_ event: EventEnvelope, failure: UUID, error: String, on connection: PostgresConnection) async throws {
        try await DeadLetters(database: database, service: "search").record(
            event, error: error, fallbackID: failure, extraHeaders: [("dlq_failure", failure.uuidString.lowercased())], on: connection)
    }

    struct Loaded: Sendable {
        var failure: Failure
        var event: StoredEvent
        var document: IndexedDocument?
    }

    func load(_ id: UUID, tenant: UUID) async throws -> Loaded? {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                "SELECT \(unescaped: Self.columns), event::text, document::text FROM search.failed_documents WHERE id = \(id)",
                logger: database.logger)
            for try await row in rows {
                let columns = row.makeRandomAccess()
                let event = try PlatformJSON.decoder.decode(StoredEvent.self, from: Data(try columns[12].decode(String.self).utf8))
                let document = try columns[13].decode(String?.self).map { try PlatformJSON.decoder.decode(IndexedDocument.self, from: Data($0.utf8)) }
                return Loaded(failure: try Self.failure(columns), event: event, document: document)
            }
            return nil
        }
    }

    func resolve(_ id: UUID, tenant: UUID) async throws -> Failure? {
        try await update(id, tenant: tenant, "state = 'resolved', resolved_at = now()")
    }

    /// Another failed attempt; `final` ends the retries and dead-letters the event.
    func failedAgain(_ id: UUID, tenant: UUID, error: String, final: Bool) async throws -> Failure? {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                """
                UPDATE search.failed_documents SET attempts = attempts + 1, error = \(String(error.prefix(2000))), last_failed_at = now(),
                  state = CASE WHEN \(final) THEN 'failed' ELSE state END
                WHERE id = \(id) AND state <> 'resolved'
                RETURNING \(unescaped: Self.columns), (state = 'failed' AND \(final)) AS dead, event::text
                """, logger: database.logger)
            for try await row in rows {
                let columns = row.makeRandomAccess()
                if try columns[12].decode(Bool.self) {
                    let stored = try PlatformJSON.decoder.decode(StoredEvent.self, from: Data(try columns[13].decode(String.self).utf8))
                    try await deadLetter(try stored.envelope(), failure: id, error: error, on: connection)
                }
                return try Self.failure(columns)
            }
            return nil
        }
    }

    private func update(_ id: UUID, tenant: UUID, _ assignments: String) async throws -> Failure? {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                "UPDATE search.failed_documents SET \(unescaped: assignments) WHERE id = \(id) RETURNING \(unescaped: Self.columns)",
                logger: database.logger)
            for try await row in rows { return try Self.failure(row.makeRandomAccess()) }
            return nil
        }
    }

    /// A page of the tenant's failures, newest first; `before` is the last id of the previous page.
    func list(tenant: UUID, state: State?, before: UUID?, limit: Int) async throws -> [Failure] {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                """
                SELECT \(unescaped: Self.columns) FROM search.failed_documents
                WHERE (\(state?.rawValue)::text IS NULL OR state = \(state?.rawValue))
                  AND (\(before)::uuid IS NULL OR id < \(before))
                ORDER BY id DESC LIMIT \(limit)
                """, logger: database.logger)
            var failures: [Failure] = []
            for try await row in rows { failures.append(try Self.failure(row.makeRandomAccess())) }
            return failures
        }
    }

    /// Ids of the tenant's unresolved failures first seen since `since`, oldest first.
    func unresolved(tenant: UUID, since: Date, limit: Int) async throws -> [UUID] {
        try await database.withTenant(tenant) { connection in
            var ids: [UUID] = []
            for try await id in try await connection.query(
                """
                SELECT id FROM search.failed_documents WHERE state <> 'resolved' AND first_failed_at >= \(since)
                ORDER BY first_failed_at LIMIT \(limit)
                """, logger: database.logger
            ).decode(UUID.self) {
                ids.append(id)
            }
            return ids
        }
    }

    /// Unresolved failures by state, for the tenant's health view.
    func pending(tenant: UUID) async throws -> [String: Int] {
        try await database.withTenant(tenant) { connection in
            var counts: [String: Int] = [:]
            for try await (state, count) in try await connection.query(
                "SELECT state, count(*)::int FROM search.failed_documents WHERE state <> 'resolved' GROUP BY state", logger: database.logger
            ).decode((String, Int).self) {
                counts[state] = count
            }
            return counts
        }
    }

    static func failure(_ columns: PostgresRandomAccessRow) throws -> Failure {
        Failure(
            id: try columns[0].decode(UUID.self), topic: try columns[1].decode(String.self), eventId: try columns[2].decode(UUID.self),
            eventType: try columns[3].decode(String.self), docType: try columns[4].decode(String?.self), docId: try columns[5].decode(UUID?.self),
            error: try columns[6].decode(String.self), attempts: try columns[7].decode(Int.self),
            state: State(rawValue: try columns[8].decode(String.self)) ?? .failed, firstFailedAt: try columns[9].decode(Date.self),
            lastFailedAt: try columns[10].decode(Date.self), resolvedAt: try columns[11].decode(Date?.self))
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
