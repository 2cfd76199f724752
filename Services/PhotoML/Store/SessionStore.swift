import Foundation
import Jobs
import Persistence
import PostgresNIO

/// SQL for photo sessions and their photos.
struct SessionStore: Sendable {
    let database: Database
    /// Where a photo's processing job is queued.
    var photoQueue = PhotoJobs.process.queue

    static let columns =
        "id, location_id, product_id, state, uploaded_by, expected_photos, error, result::text, completed_at, version, created_at, updated_at"
    static let photoColumns = "id, session_id, sha256, format, width, height, orientation, bytes, duplicate_of, state, detected, error, created_at"

    static func photos(_ rows: PostgresRowSequence) async throws -> [Photo] {
        var photos: [Photo] = []
        for try await (id, session, sha256, format, width, height, orientation, bytes, duplicateOf, state, detected, error, created) in rows.decode(
            (UUID, UUID, String, String, Int, Int, Int, Int, UUID?, String, Int?, String?, Date).self)
        {
            let header = ImageHeader(format: ImageHeader.Format(rawValue: format) ?? .jpeg, width: width, height: height, orientation: orientation)
            photos.append(
                Photo(
                    id: id, sessionId: session, sha256: sha256, contentType: header.format.contentType, width: width, height: height,
                    orientation: orientation, uprightWidth: header.upright.width, uprightHeight: header.upright.height, bytes: bytes,
                    duplicateOf: duplicateOf, state: state, detected: detected, error: error, createdAt: created))
        }
        return photos
    }

    /// Records an uploaded photo (its bytes already stored under `storageKey`), in a new
    /// session or, with `sessionId`, in a pending one of the same location.
    func add(_ upload: PhotoUpload, photoID: UUID, storageKey: String, actor: String, tenant: UUID) async throws -> PhotoSession {
        try await database.withTenant(tenant) { connection in
            try await add(upload, photoID: photoID, storageKey: storageKey, actor: actor, tenant: tenant, on: connection)
        }
    }

    /// The same, in the caller's transaction.
    func add(
        _ upload: PhotoUpload, photoID: UUID, storageKey: String, actor: String, tenant: UUID, on connection: PostgresConnection
    ) async throws -> PhotoSession {
        try await InventoryChecks.requireLocation(upload.locationId, on: connection, logger: database.logger)
        if let product = upload.productId { try await InventoryChecks.requireProduct(product, on: connection, logger: database.logger) }
        let sessionID: UUID
        if let existing = upload.sessionId {
            guard let session = try await fetch(existing, lock: true, on: connection) else { throw InventoryError.notFound }
            guard session.locationId == upload.locationId else { throw InventoryError.sessionElsewhere }
            guard [.pending, .processing].contains(session.state), session.photos.count < session.expectedPhotos else {
                throw InventoryError.sessionClosed
            }
            sessionID = existing
        } else {
            sessionID = UUID.v7()
            try await connection.query(
                """
                INSERT INTO photoml.photo_sessions (id, tenant_id, location_id, product_id, uploaded_by, expected_photos)
                VALUES (\(sessionID), \(tenant), \(upload.locationId), \(upload.productId), \(actor), \(upload.parts))
                """, logger: database.logger)
        }
        try await connection.query(
            """
            INSERT INTO photoml.photos (id, tenant_id, session_id, location_id, sha256, format, width, height, orientation, bytes, storage_key, reprocess, duplicate_of)
            VALUES (\(photoID), \(tenant), \(sessionID), \(upload.locationId), \(upload.sha256), \(upload.header.format.rawValue),
                    \(upload.header.width), \(upload.header.height), \(upload.header.orientation), \(upload.bytes), \(storageKey), \(upload.reprocess),
                    (SELECT id FROM photoml.photos WHERE location_id = \(upload.locationId) AND sha256 = \(upload.sha256) ORDER BY id LIMIT 1))
            """, logger: database.logger)
        try await connection.query(
            "UPDATE photoml.photo_sessions SET version = version + 1, updated_at = now() WHERE id = \(sessionID) AND \(upload.sessionId != nil)",
            logger: database.logger)
        // Processed once the upload has committed (a job made in the same transaction).
        try await JobQueue(schema: "photoml").enqueue(
            PhotoJobs.process, ProcessArguments(photoId: photoID), tenant: tenant, options: .init(queue: photoQueue), on: connection)
        guard let session = try await fetch(sessionID, lock: false, on: connection) else { throw InventoryError.notFound }
        return session
    }

    func get(_ id: UUID, tenant: UUID) async throws -> PhotoSession {
        try await database.withTenant(tenant) { connection in
            guard let session = try await fetch(id, lock: false, on: connection) else { throw InventoryError.notFound }
            return session
        }
    }

    /// A session with its photos.
    func fetch(_ id: UUID, lock: Bool, on connection: PostgresConnection) async throws -> PhotoSession? {
        guard
            var session = try await sessions(
                try await connection.query(
                    "SELECT \(unescaped: Self.columns) FROM photoml.photo_sessions WHERE id = \(id) \(unescaped: lock ? "FOR UPDATE" : "")",
                    logger: database.logger)
            ).first
        else { return nil }
        session.photos = try await Self.photos(
            try await connection.query(
                "SELECT \(unescaped: Self.photoColumns) FROM photoml.photos WHERE session_id = \(id) ORDER BY id", logger: database.logger))
        session.duplicate = session.photos.contains { $0.duplicateOf != nil }
        return session
    }

    /// Newest first, optionally in one state or of one location; without their photos.
    func list(tenant: UUID, state: PhotoSession.State?, location: UUID?, before cursor: UUID?, limit: Int) async throws -> [PhotoSession] {
        try await database.withTenant(tenant) { connection in
            try await sessions(
                try await connection.query(
                    """
                    SELECT \(unescaped: Self.columns) FROM photoml.photo_sessions
                    WHERE (\(state?.rawValue)::text IS NULL OR state = \(state?.rawValue)) AND (\(location)::uuid IS NULL OR location_id = \(location))
                      AND (\(cursor)::uuid IS NULL OR id < \(cursor))
                    ORDER BY id DESC LIMIT \(limit)
                    """, logger: database.logger))
        }
    }

    /// A photo and where its bytes are.
    func photo(_ id: UUID, tenant: UUID) async throws -> StoredPhoto {
        try await database.withTenant(tenant) { connection in
            guard
                let photo = try await Self.photos(
                    try await connection.query("SELECT \(unescaped: Self.photoColumns) FROM photoml.photos WHERE id = \(id)", logger: database.logger)
                ).first
            else { throw InventoryError.notFound }
            for try await (key, thumbnail) in try await connection.query(
                "SELECT storage_key, thumbnail_key FROM photoml.photos WHERE id = \(id)", logger: database.logger
            ).decode((String, String?).self) {
                return StoredPhoto(photo: photo, storageKey: key, thumbnailKey: thumbnail)
            }
            throw InventoryError.notFound
        }
    }

    /// A photo and where its bytes and thumbnail are kept.
    struct StoredPhoto: Sendable {
        var photo: Photo
        var storageKey: String
        var thumbnailKey: String?
    }

    /// Which of a session's detections to list.
    struct DetectionFilter: Sendable {
        var classID: Int?
        var minScore: Double?
        var photoID: UUID?
        /// Detections whose box meets this one (upright photo pixels).
        var area: Box?
    }

    /// A session's detections in the order they were stored, filtered.
    func detections(of session: UUID, tenant: UUID, filter: DetectionFilter, after cursor: Int64?, limit: Int) async throws -> [StoredDetection] {
        let (classID, minScore, photoID) = (filter.classID, filter.minScore, filter.photoID)
        let area = filter.area.map { [Float($0.x1), Float($0.y1), Float($0.x2), Float($0.y2)] }
        return try await database.withTenant(tenant) { connection in
            guard try await fetch(session, lock: false, on: connection) != nil else { throw InventoryError.notFound }
            var found: [StoredDetection] = []
            for try await (id, photo, x1, y1, x2, y2, score, classValue, tile, polygon) in try await connection.query(
                """
                SELECT id, photo_id, x1, y1, x2, y2, score, class_id, tile, polygon FROM photoml.detections
                WHERE session_id = \(session) AND (\(classID)::int IS NULL OR class_id = \(classID))
                  AND (\(minScore)::real IS NULL OR score >= \(minScore)) AND (\(cursor)::bigint IS NULL OR id > \(cursor))
                  AND (\(photoID)::uuid IS NULL OR photo_id = \(photoID))
                  AND (\(area)::real[] IS NULL OR (x2 >= (\(area)::real[])[1] AND y2 >= (\(area)::real[])[2]
                                                 AND x1 <= (\(area)::real[])[3] AND y1 <= (\(area)::real[])[4]))
                ORDER BY id LIMIT \(limit)
                """, logger: database.logger
            ).decode((Int64, UUID, Float, Float, Float, Float, Float, Int16, Int?, [Float]?).self) {
                found.append(
                    StoredDetection(
                        id: id, photoId: photo, box: Box(x1: Double(x1), y1: Double(y1), x2: Double(x2), y2: Double(y2)), score: Double(score),
                        classId: Int(classValue), tile: tile.flatMap { $0 >= 0 ? $0 : nil },
                        polygon: polygon.map { points in
                            stride(from: 0, to: points.count - 1, by: 2).map { [Double(points[$0]), Double(points[$0 + 1])] }
                        }))
            }
            return found
        }
    }

    /// How many of the tenant's sessions are in each state (every state named, 0 or more).
    func countsByState(tenant: UUID) async throws -> [String: Int] {
        try await database.withTenant(tenant) { connection in
            var counts = Dictionary(uniqueKeysWithValues: PhotoSession.State.allCases.map { ($0.rawValue, 0) })
            for try await (state, count) in try await connection.query(
                "SELECT state, count(*)::int FROM photoml.photo_sessions GROUP BY state", logger: database.logger
            ).decode((String, Int).self) {
                counts[state] = count
            }
            return counts
        }
    }

    /// A failed session goes back to pending: its failed photos are processed again (those
    /// done keep their detections), as new jobs.
    func retry(_ id: UUID, tenant: UUID) async throws -> PhotoSession {
        try await database.withTenant(tenant) { connection in
            guard let session = try await fetch(id, lock: true, on: connection) else { throw InventoryError.notFound }
            guard session.state == .failed else { throw InventoryError.sessionNotFailed(session.state.rawValue) }
            try await connection.query(
                """
                UPDATE photoml.photo_sessions SET state = 'pending', error = NULL, result = NULL, completed_at = NULL,
                  version = version + 1, updated_at = now()
                WHERE id = \(id)
                """, logger: database.logger)
            let queue = JobQueue(schema: "photoml")
            for try await photo in try await connection.query(
                "UPDATE photoml.photos SET state = 'pending', error = NULL WHERE session_id = \(id) AND state = 'failed' RETURNING id",
                logger: database.logger
            ).decode(UUID.self) {
                try await queue.enqueue(
                    PhotoJobs.process, ProcessArguments(photoId: photo), tenant: tenant, options: .init(queue: photoQueue), on: connection)
            }
            guard let retried = try await fetch(id, lock: false, on: connection) else { throw InventoryError.notFound }
            return retried
        }
    }

    private func sessions(_ rows: PostgresRowSequence) async throws -> [PhotoSession] {
        var sessions: [PhotoSession] = []
        for try await (id, location, product, state, uploadedBy, expected, error, result, completed, version, created, updated) in rows.decode(
            (UUID, UUID, UUID?, String, String, Int, String?, String?, Date?, Int, Date, Date).self)
        {
            sessions.append(
                PhotoSession(
                    id: id, locationId: location, productId: product, state: PhotoSession.State(rawValue: state) ?? .pending, uploadedBy: uploadedBy,
                    expectedPhotos: expected, photos: [], duplicate: false, error: error,
                    result: result.flatMap { try? JSONDecoder().decode(SessionResult.self, from: Data($0.utf8)) }, completedAt: completed,
                    version: version, createdAt: created, updatedAt: updated))
        }
        return sessions
    }
}
