import Contracts
import Foundation
import Jobs
import Logging
import Messaging
import Metrics
import Persistence
import PostgresNIO
import ServiceKit

struct FailureRetry: Codable, Sendable {
    var failureId: UUID
}

/// Applies batches of source events to the index through their type's mapper. A batch
/// becomes one write (several events for one document coalesced to the newest), and a
/// version check makes duplicates and reordered events harmless. An event that cannot
/// mean a document is recorded as failed and dead-lettered; a document whose write fails
/// is recorded and retried by a job; neither holds up the partition.
///
/// Duplicates: version guard (a document is written only by a newer source version).
struct Indexer: BatchHandling {
    static let group = "search.indexer"
    let maxBatch = 1000
    let writer: IndexWriter
    let failures: FailureStore
    let mappers: [String: any DocumentMapper]

    init(
        database: Database, retryKind: JobKind<FailureRetry> = SearchJobs.indexDocument(),
        mappers: [any DocumentMapper] = [TaskDocuments(), ProjectDocuments(), PhotoSessionDocuments()]
    ) {
        self.writer = IndexWriter(database: database)
        self.failures = FailureStore(database: database, retryKind: retryKind)
        self.mappers = Dictionary(uniqueKeysWithValues: mappers.map { ($0.topic.name, $0) })
    }

    var topics: [Topic] { mappers.values.map(\.topic).sorted { $0.name < $1.name } }

    func handle(_ events: [EventEnvelope]) async throws {
        try await apply(events)
    }

    /// What a batch means: its documents (coalesced), the event each came from, and the
    /// events that mean nothing valid.
    struct Mapped {
        var documents: [IndexedDocument] = []
        var sources: [IndexedDocument.Key: EventEnvelope] = [:]
        var poison: [(event: EventEnvelope, reason: String)] = []
    }

    /// Maps the events; `tenant` keeps only that tenant's (a one-tenant reindex).
    func map(_ events: [EventEnvelope], tenant: UUID? = nil) -> Mapped {
        var mapped = Mapped()
        var documents: [IndexedDocument] = []
        for event in events where tenant == nil || event.tenantID == tenant {
            guard let mapper = mappers[event.topic] else { continue }
            do {
                guard let document = try mapper.document(from: event) else { continue }
                documents.append(document)
                if mapped.sources[document.key].map({ $0.time <= event.time }) ?? true { mapped.sources[document.key] = event }
            } catch {
                mapped.poison.append((event, Self.describe(error)))
            }
        }
        mapped.documents = IndexWriter.coalesce(documents)
        return mapped
    }

    /// Applies a batch: into the live index, or into a reindex's building generation.
    /// Throws only when the database cannot take it now (the batch is read again later).
    @discardableResult
    func apply(_ events: [EventEnvelope], reindex: UUID? = nil, tenant: UUID? = nil) async throws -> Int {
        let mapped = map(events, tenant: tenant)
        for (event, reason) in mapped.poison {
            try await failures.recordPoison(event, error: reason)
            Counter(label: "search_index_failures_total", dimensions: [("kind", "poison")]).increment()
        }
        do {
            let written = try await writer.apply(mapped.documents, reindex: reindex)
            Counter(label: "search_documents_written_total").increment(by: written)
            if reindex == nil, let newest = events.map(\.time).max() {
                Gauge(label: "search_last_event_applied_seconds").record(newest.timeIntervalSince1970)
            }
            return written
        } catch let error where Self.isDocumentFault(error) {
            // One document spoils the statement: write them one by one, and hand the ones
            // that fail to the retry job.
            var written = 0
            for document in mapped.documents {
                do {
                    written += try await writer.apply([document], reindex: reindex)
                } catch let error where Self.isDocumentFault(error) {
                    guard let event = mapped.sources[document.key] else { continue }
                    try await failures.recordRetrying(document, from: event, error: Self.describe(error))
                    Counter(label: "search_index_failures_total", dimensions: [("kind", "document")]).increment()
                }
            }
            return written
        }
    }

    /// One event, as a batch of one.
    func handle(_ event: EventEnvelope) async throws {
        try await apply([event])
    }

    /// The retry job: writes the failed document again; after the last attempt the
    /// failure stays `failed` and the event goes to `dlq.search`.
    func retry(_ retry: FailureRetry, context: JobContext) async throws {
        guard let loaded = try await failures.load(retry.failureId, tenant: context.tenantID), loaded.failure.state == .retrying,
            let document = loaded.document
        else { return }
        do {
            try await writer.apply([document])
            _ = try await failures.resolve(retry.failureId, tenant: context.tenantID)
        } catch let error where Self.isDocumentFault(error) {
            let final = context.attempt >= context.maxAttempts
            _ = try await failures.failedAgain(retry.failureId, tenant: context.tenantID, error: Self.describe(error), final: final)
            if !final { throw error }
        }
    }

    struct ReplayFailed: Error {
        var failure: FailureStore.Failure?
        var reason: String
    }

    /// Maps the stored event again (a fixed mapper may take it now) and writes it.
    /// nil: no such failure for this tenant.
    func replay(_ id: UUID, tenant: UUID) async throws -> FailureStore.Failure? {
        guard let loaded = try await failures.load(id, tenant: tenant) else { return nil }
        guard loaded.failure.state != .resolved else { return loaded.failure }
        do {
            let event = try loaded.event.envelope()
            if let mapper = mappers[event.topic], let document = try mapper.document(from: event) {
                try await writer.apply([document])
            }
        } catch let error where !(error is PSQLError) || Self.isDocumentFault(error) {
            let reason = Self.describe(error)
            throw ReplayFailed(failure: try await failures.failedAgain(id, tenant: tenant, error: reason, final: false), reason: reason)
        }
        return try await failures.resolve(id, tenant: tenant)
    }

    /// A fault of the document itself (its data, a constraint, a size limit), as opposed
    /// to the database being unavailable, busy or deadlocked, which retrying the batch fixes.
    static func isDocumentFault(_ error: any Error) -> Bool {
        guard let state = error.sqlState else { return false }
        return ["22", "23", "54"].contains(String(state.prefix(2)))
    }

    /// What went wrong, in words fit for the admin console (no bind values).
    static func describe(_ error: any Error) -> String {
        switch error {
        case let failure as PermanentFailure: return failure.reason
        case let mismatch as TenantMismatch: return mismatch.description
        case is DecodingError: return "the payload does not decode as its event type"
        case let error as PSQLError:
            let message = error.serverInfo?[.message] ?? "database error"
            return "\(error.serverInfo?[.sqlState] ?? "?????"): \(message)"
        default: return String(describing: error)
        }
    }
}
