import Foundation
import Jobs
import Persistence
import PostgresNIO

struct ExpireUploadArguments: Codable, Sendable {
    var uploadId: UUID
}

/// SQL for two-step uploads.
struct UploadStore: Sendable {
    let database: Database
    let sessions: SessionStore

    static let columns = "id, location_id, product_id, session_id, parts, reprocess, declared_bytes, expires_at, completed_session_id, created_at"

    /// Records the upload asked for, and a job to clear it away should it never complete.
    func create(_ upload: PendingUpload, storageKey: String, actor: String, tenant: UUID) async throws -> PendingUpload {
        try await database.withTenant(tenant) { connection in
            try await InventoryChecks.requireLocation(upload.locationId, on: connection, logger: database.logger)
            if let product = upload.productId { try await InventoryChecks.requireProduct(product, on: connection, logger: database.logger) }
            if let session = upload.sessionId, try await sessions.fetch(session, lock: false, on: connection) == nil {
                throw InventoryError.notFound
            }
            try await connection.query(
                """
                INSERT INTO photoml.photo_uploads (id, tenant_id, location_id, product_id, session_id, parts, reprocess, declared_bytes,
                  storage_key, created_by, expires_at)
                VALUES (\(upload.id), \(tenant), \(upload.locationId), \(upload.productId), \(upload.sessionId), \(upload.parts),
                        \(upload.reprocess), \(upload.bytes), \(storageKey), \(actor), \(upload.expiresAt))
                """, logger: database.logger)
            try await JobQueue(schema: "photoml").enqueue(
                PhotoJobs.expireUpload, ExpireUploadArguments(uploadId: upload.id), tenant: tenant,
                options: .init(runAt: upload.expiresAt.addingTimeInterval(3600)), on: connection)
            guard let created = try await fetch(upload.id, lock: false, on: connection) else { throw InventoryError.notFound }
            return created.0
        }
    }

    func get(_ id: UUID, tenant: UUID) async throws -> (PendingUpload, storageKey: String) {
        try await database.withTenant(tenant) { connection in
            guard let found = try await fetch(id, lock: false, on: connection) else { throw InventoryError.notFound }
            return found
        }
    }

    /// The photo goes into its session, once: a second completion, or one after the
    /// expiry, is refused.
    func complete(_ id: UUID, photo: PhotoUpload, actor: String, tenant: UUID) async throws -> PhotoSession {
        try await database.withTenant(tenant) { connection in
            guard let (upload, key) = try await fetch(id, lock: true, on: connection) else { throw InventoryError.notFound }
            guard upload.completedSessionId == nil else { throw InventoryError.uploadClosed("it was completed already") }
            guard upload.expiresAt > Date() else { throw InventoryError.uploadClosed("it expired; ask for a new one") }
            let session = try await sessions.add(photo, photoID: id, storageKey: key, actor: actor, tenant: tenant, on: connection)
            try await connection.query(
                "UPDATE photoml.photo_uploads SET completed_session_id = \(session.id) WHERE id = \(id)", logger: database.logger)
            return session
        }
    }

    /// Forgets an upload that never completed; answers where its bytes may lie.
    func expire(_ id: UUID, tenant: UUID) async throws -> String? {
        try await database.withTenant(tenant) { connection in
            for try await key in try await connection.query(
                "DELETE FROM photoml.photo_uploads WHERE id = \(id) AND completed_session_id IS NULL AND expires_at < now() RETURNING storage_key",
                logger: database.logger
            ).decode(String.self) {
                return key
            }
            return nil
        }
    }

    func fetch(_ id: UUID, lock: Bool, on connection: PostgresConnection) async throws -> (PendingUpload, storageKey: String)? {
        let rows = try await connection.query(
            """
            SELECT \(unescaped: Self.columns), storage_key FROM photoml.photo_uploads WHERE id = \(id) \(unescaped: lock ? "FOR UPDATE" : "")
            """, logger: database.logger)
        for try await (id, location, product, session, parts, reprocess, bytes, expires, completed, created, key) in rows.decode(
            (UUID, UUID, UUID?, UUID?, Int, Bool, Int, Date, UUID?, Date, String).self)
        {
            return (
                PendingUpload(
                    id: id, locationId: location, productId: product, sessionId: session, parts: parts, reprocess: reprocess, bytes: bytes,
                    expiresAt: expires, completedSessionId: completed, createdAt: created), key
            )
        }
        return nil
    }
}
