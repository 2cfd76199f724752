import Foundation
import Jobs
import Persistence
import PostgresNIO
import ServiceKit

struct ImportArguments: Codable, Sendable {
    var importId: UUID
}

/// SQL for CSV imports: keeping the file, and applying it a chunk per transaction.
struct ImportStore: Sendable {
    let database: Database
    static let chunkBytes = 1 << 20
    static let maxErrors = 1000

    static let columns = """
        id, mode, list_ids, state, total_bytes, chunks, next_chunk, rows, created, updated, skipped, failed, errors::text, error, created_at, finished_at
        """

    static func imports(_ rows: PostgresRowSequence) async throws -> [SubscriberImport] {
        var found: [SubscriberImport] = []
        for try await (id, mode, lists, state, bytes, chunks, next, rows, created, updated, skipped, failed, errors, error, createdAt, finished)
            in rows.decode((UUID, String, [UUID], String, Int, Int, Int, Int, Int, Int, Int, Int, String, String?, Date, Date?).self)
        {
            found.append(
                SubscriberImport(
                    id: id, mode: SubscriberImport.Mode(rawValue: mode) ?? .upsert, listIds: lists, state: state, totalBytes: bytes,
                    progress: state == "finished" ? 1 : Double(next) / Double(max(1, chunks)), rows: rows, created: created, updated: updated,
                    skipped: skipped, failed: failed, errors: (try? JSONDecoder().decode([RowError].self, from: Data(errors.utf8))) ?? [],
                    error: error,
                    createdAt: createdAt, finishedAt: finished))
        }
        return found
    }

    /// How long an upload may take before its import is given up.
    static let uploadWindow: TimeInterval = 3600

    /// Starts receiving a file: the import, `receiving`, with its first chunk. The lists must
    /// be the tenant's. An upload that never completes (the process died under it) is failed
    /// by a job after `uploadWindow`.
    func begin(id: UUID, mode: SubscriberImport.Mode, lists: [UUID], first chunk: [UInt8], actor: String, tenant: UUID) async throws {
        try await database.withTenant(tenant) { connection in
            if !lists.isEmpty {
                var known: Set<UUID> = []
                for try await found in try await connection.query(
                    "SELECT id FROM campaigns.lists WHERE id = ANY(\(lists))", logger: database.logger
                ).decode(UUID.self) {
                    known.insert(found)
                }
                let missing = lists.filter { !known.contains($0) }
                guard missing.isEmpty else { throw CampaignsError.listsMissing(missing) }
            }
            try await connection.query(
                """
                INSERT INTO campaigns.subscriber_imports (id, tenant_id, mode, list_ids, state, total_bytes, chunks, created_by)
                VALUES (\(id), \(tenant), \(mode.rawValue), \(lists), 'receiving', 0, 0, \(actor))
                """, logger: database.logger)
            try await Self.keep(chunk, seq: 0, of: id, tenant: tenant, on: connection, logger: database.logger)
            try await JobQueue(schema: "campaigns").enqueue(
                CampaignJobs.abandonImport, ImportArguments(importId: id), tenant: tenant,
                options: .init(runAt: Date().addingTimeInterval(Self.uploadWindow)), on: connection)
        }
    }

    /// One more chunk of a file being received (chunk `seq`, counting from 0).
    func add(_ chunk: [UInt8], seq: Int, to id: UUID, tenant: UUID) async throws {
        try await database.withTenant(tenant) { connection in
            try await Self.keep(chunk, seq: seq, of: id, tenant: tenant, on: connection, logger: database.logger)
        }
    }

    static func keep(_ chunk: [UInt8], seq: Int, of id: UUID, tenant: UUID, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO campaigns.subscriber_import_chunks (tenant_id, import_id, seq, data)
            VALUES (\(tenant), \(id), \(seq), \(ByteBuffer(bytes: chunk)))
            """, logger: logger)
    }

    /// The whole file is in: the import is queued for its job.
    func complete(_ id: UUID, chunks: Int, bytes: Int, tenant: UUID) async throws -> SubscriberImport {
        try await database.withTenant(tenant) { connection in
            try await connection.query(
                """
                UPDATE campaigns.subscriber_imports SET state = 'queued', chunks = \(chunks), total_bytes = \(bytes)
                WHERE id = \(id) AND state = 'receiving'
                """, logger: database.logger)
            let jobs = JobQueue(schema: "campaigns")
            // The upload finished: nothing is left for the job that would give it up.
            try await jobs.withdraw(CampaignJobs.abandonImport, ImportArguments(importId: id), on: connection)
            try await jobs.enqueue(CampaignJobs.importSubscribers, ImportArguments(importId: id), tenant: tenant, on: connection)
            guard let created = try await fetch(id, on: connection) else { throw CampaignsError.notFound }
            return created
        }
    }

    /// An upload that failed (too large, the client went away) or never completed: its
    /// chunks go, the import stays as failed with the reason.
    func abandon(_ id: UUID, reason: String, tenant: UUID) async throws {
        try await database.withTenant(tenant) { connection in
            for try await _ in try await connection.query(
                "SELECT 1 FROM campaigns.subscriber_imports WHERE id = \(id) AND state = 'receiving' FOR UPDATE", logger: database.logger)
            {
                try await finish(id, error: reason, on: connection)
            }
        }
    }

    func fetch(_ id: UUID, on connection: PostgresConnection) async throws -> SubscriberImport? {
        try await Self.imports(
            try await connection.query(
                "SELECT \(unescaped: Self.columns) FROM campaigns.subscriber_imports WHERE id = \(id)", logger: database.logger)
        ).first
    }

    func get(_ id: UUID, tenant: UUID) async throws -> SubscriberImport {
        try await database.withTenant(tenant) { connection in
            guard let found = try await fetch(id, on: connection) else { throw CampaignsError.notFound }
            return found
        }
    }

    /// Applies the next chunk; answers false when the import is done.
    func step(_ id: UUID, quota: Int, tenant: UUID) async throws -> Bool {
        try await database.withTenant(tenant) { connection in
            var state: (String, Int, Int, String?, [String]?, String, [UUID])?
            for try await row in try await connection.query(
                """
                SELECT state, next_chunk, chunks, reader::text, columns, mode, list_ids FROM campaigns.subscriber_imports
                WHERE id = \(id) FOR UPDATE
                """, logger: database.logger
            ).decode((String, Int, Int, String?, [String]?, String, [UUID]).self) {
                state = row
            }
            guard let (current, next, chunks, readerJSON, header, mode, lists) = state, current == "queued" || current == "running" else {
                return false
            }
            var reader = readerJSON.flatMap { try? JSONDecoder().decode(CSVReader.self, from: Data($0.utf8)) } ?? CSVReader()
            var records: [CSVReader.Record] = []
            if next < chunks {
                for try await data in try await connection.query(
                    "SELECT data FROM campaigns.subscriber_import_chunks WHERE import_id = \(id) AND seq = \(next)", logger: database.logger
                ).decode(ByteBuffer.self) {
                    records = reader.feed(data.readableBytesView)
                }
            }
            let last = next + 1 >= chunks
            var fileError: String?
            if last {
                do {
                    records += try reader.finish()
                } catch let unclosed as CSVReader.Unclosed {
                    fileError = "a quoted field starting on line \(unclosed.line) is never closed"
                }
            }
            var columns = header.flatMap { ImportColumns(header: $0) }
            if header == nil, let first = records.first {
                records.removeFirst()
                guard let parsed = ImportColumns(header: first.fields) else {
                    try await finish(id, error: "the first line must be a header with an email column", on: connection)
                    return false
                }
                columns = parsed
                try await connection.query(
                    "UPDATE campaigns.subscriber_imports SET columns = \(first.fields) WHERE id = \(id)", logger: database.logger)
            }
            var counts = Counts()
            if let columns, !records.isEmpty {
                counts = try await apply(records, columns: columns, mode: mode, lists: lists, quota: quota, tenant: tenant, on: connection)
            }
            let readerState = String(decoding: try JSONEncoder().encode(reader), as: UTF8.self)
            let errors = String(decoding: try JSONEncoder().encode(counts.errors), as: UTF8.self)
            try await connection.query(
                """
                UPDATE campaigns.subscriber_imports SET state = 'running', next_chunk = \(next + 1), reader = \(readerState)::jsonb,
                  rows = rows + \(counts.rows), created = created + \(counts.created), updated = updated + \(counts.updated),
                  skipped = skipped + \(counts.skipped), failed = failed + \(counts.failed),
                  errors = (SELECT COALESCE(jsonb_agg(e), '[]') FROM (SELECT e FROM jsonb_array_elements(errors || \(errors)::jsonb) e LIMIT \(Self.maxErrors)) x)
                WHERE id = \(id)
                """, logger: database.logger)
            if last {
                try await finish(id, error: fileError, on: connection)
                return false
            }
            return true
        }
    }

    func finish(_ id: UUID, error: String?, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            UPDATE campaigns.subscriber_imports SET state = \(error == nil ? "finished" : "failed"), error = \(error), finished_at = now(), reader = NULL
            WHERE id = \(id)
            """, logger: database.logger)
        try await connection.query("DELETE FROM campaigns.subscriber_import_chunks WHERE import_id = \(id)", logger: database.logger)
    }

    struct Counts {
        var rows = 0
        var created = 0
        var updated = 0
        var skipped = 0
        var failed = 0
        var errors: [RowError] = []
    }

    /// One chunk's rows: valid ones upserted (or skipped when they exist), all in one
    /// statement, and put on the import's lists; the rest counted with their reasons.
    func apply(
        _ records: [CSVReader.Record], columns: ImportColumns, mode: String, lists: [UUID], quota: Int, tenant: UUID,
        on connection: PostgresConnection
    ) async throws -> Counts {
        var counts = Counts()
        counts.rows = records.count
        var byEmail: [String: ImportColumns.Row] = [:]
        var order: [String] = []
        for record in records {
            switch columns.row(record) {
            case .success(let row):
                // A file naming an address twice: its last row wins.
                if byEmail[row.email] == nil { order.append(row.email) } else { counts.skipped += 1 }
                byEmail[row.email] = row
            case .failure(let failure):
                counts.failed += 1
                if counts.errors.count < Self.maxErrors { counts.errors.append(failure.error) }
            }
        }
        var rows = order.compactMap { byEmail[$0] }
        var existing = 0
        for try await count in try await connection.query("SELECT count(*)::int FROM campaigns.subscribers", logger: database.logger).decode(Int.self)
        {
            existing = count
        }
        if existing + rows.count > quota {
            let room = max(0, quota - existing)
            for row in rows.dropFirst(room) where counts.errors.count < Self.maxErrors {
                counts.errors.append(RowError(line: 0, field: "email", reason: "\(row.email): over the plan's \(quota) subscribers"))
            }
            counts.failed += rows.count - room
            rows = Array(rows.prefix(room))
        }
        guard !rows.isEmpty else { return counts }
        let attributes = rows.map { SubscriberStore.json($0.attributes) }
        let conflict =
            mode == "upsert"
            ? """
            DO UPDATE SET name = CASE WHEN EXCLUDED.name <> '' THEN EXCLUDED.name ELSE subscribers.name END,
              attributes = subscribers.attributes || EXCLUDED.attributes, status = EXCLUDED.status, version = subscribers.version + 1,
              updated_at = now()
            """ : "DO NOTHING"
        for try await (created, updated) in try await connection.query(
            """
            WITH written AS (
              INSERT INTO campaigns.subscribers (id, tenant_id, email, name, attributes, status)
              SELECT gen_random_uuid(), \(tenant), e, n, a::jsonb, s
              FROM unnest(\(rows.map(\.email))::text[], \(rows.map(\.name))::text[], \(attributes)::text[], \(rows.map(\.status.rawValue))::text[])
                AS r(e, n, a, s)
              ON CONFLICT (tenant_id, email) \(unescaped: conflict)
              RETURNING (xmax = 0) AS inserted)
            SELECT count(*) FILTER (WHERE inserted)::int, count(*) FILTER (WHERE NOT inserted)::int FROM written
            """, logger: database.logger
        ).decode((Int, Int).self) {
            counts.created += created
            counts.updated += updated
            counts.skipped += rows.count - created - updated
        }
        for list in lists {
            var waiting: [UUID] = []
            for try await (subscriber, status) in try await connection.query(
                """
                INSERT INTO campaigns.list_members (tenant_id, list_id, subscriber_id, status)
                SELECT \(tenant), \(list), s.id,
                       CASE WHEN (SELECT opt_in FROM campaigns.lists WHERE id = \(list)) = 'double' THEN 'unconfirmed' ELSE 'confirmed' END
                FROM campaigns.subscribers s WHERE s.email = ANY(\(rows.map(\.email))::text[])
                ON CONFLICT DO NOTHING
                RETURNING subscriber_id, status
                """, logger: database.logger
            ).decode((UUID, String).self) where status == "unconfirmed" {
                waiting.append(subscriber)
            }
            try await ListStore.askToConfirm(waiting, list: list, tenant: tenant, on: connection)
        }
        return counts
    }
}
