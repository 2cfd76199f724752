import Contracts
import Foundation
import Persistence
import PostgresNIO

/// SQL for processing photos: what a job needs, what it found, and the session's result
/// once every photo of it is done.
struct ProcessingStore: Sendable {
    let database: Database

    struct Work: Sendable {
        var photoID: UUID
        var sessionID: UUID
        var storageKey: String
        var header: ImageHeader
        /// An earlier photo of the same bytes and location, done, whose detections this one reuses.
        var reuse: UUID?
    }

    /// The photo to process, marked processing (its session too); nil when it is gone or done.
    func claim(_ photoID: UUID, tenant: UUID) async throws -> Work? {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                """
                UPDATE photoml.photos SET state = 'processing' WHERE id = \(photoID) AND state IN ('pending', 'processing')
                RETURNING session_id, storage_key, format, width, height, orientation,
                  CASE WHEN NOT reprocess THEN (SELECT o.id FROM photoml.photos o WHERE o.id = photos.duplicate_of AND o.state = 'done') END
                """, logger: database.logger)
            for try await (session, key, format, width, height, orientation, reuse) in rows.decode((UUID, String, String, Int, Int, Int, UUID?).self)
            {
                try await connection.query(
                    "UPDATE photoml.photo_sessions SET state = 'processing', updated_at = now() WHERE id = \(session) AND state = 'pending'",
                    logger: database.logger)
                return Work(
                    photoID: photoID, sessionID: session, storageKey: key,
                    header: ImageHeader(
                        format: ImageHeader.Format(rawValue: format) ?? .jpeg, width: width, height: height, orientation: orientation),
                    reuse: reuse)
            }
            return nil
        }
    }

    /// Keeps a photo's detections (replacing those of an earlier attempt) and marks it done;
    /// answers whether it was the session's last photo to finish.
    func finish(
        _ work: Work, detections: [Detection], warnings: [SessionWarning], stages: [String: Double], thumbnailKey: String?, tenant: UUID
    ) async throws -> Bool {
        try await database.withTenant(tenant) { connection in
            try await connection.query("DELETE FROM photoml.detections WHERE photo_id = \(work.photoID)", logger: database.logger)
            if !detections.isEmpty {
                try await connection.query(
                    """
                    INSERT INTO photoml.detections (tenant_id, photo_id, session_id, found_on, x1, y1, x2, y2, score, class_id, tile, polygon)
                    SELECT \(tenant), \(work.photoID), \(work.sessionID), current_date, x1, y1, x2, y2, score, class_id, tile, NULLIF(polygon, '')::real[]
                    FROM unnest(\(detections.map { Float($0.box.x1) })::real[], \(detections.map { Float($0.box.y1) })::real[],
                                \(detections.map { Float($0.box.x2) })::real[], \(detections.map { Float($0.box.y2) })::real[],
                                \(detections.map { Float($0.score) })::real[], \(detections.map { Int16($0.classID) })::smallint[],
                                \(detections.map { $0.tile ?? -1 })::int[], \(detections.map(Self.polygonLiteral))::text[])
                      AS d(x1, y1, x2, y2, score, class_id, tile, polygon)
                    """, logger: database.logger)
            }
            try await connection.query(
                """
                UPDATE photoml.photos SET state = 'done', detected = \(detections.count), error = NULL, thumbnail_key = \(thumbnailKey),
                  stages = \(String(decoding: try JSONEncoder().encode(stages), as: UTF8.self))::jsonb,
                  warnings = \(String(decoding: try JSONEncoder().encode(warnings), as: UTF8.self))::jsonb
                WHERE id = \(work.photoID)
                """, logger: database.logger)
            // The session row lock orders photos finishing at once: one of them sees all done.
            try await connection.query("SELECT 1 FROM photoml.photo_sessions WHERE id = \(work.sessionID) FOR UPDATE", logger: database.logger)
            for try await (open, photos, expected) in try await connection.query(
                """
                SELECT count(*) FILTER (WHERE p.state IN ('pending', 'processing'))::int, count(*)::int, max(s.expected_photos)
                FROM photoml.photos p JOIN photoml.photo_sessions s ON s.id = p.session_id WHERE p.session_id = \(work.sessionID)
                """, logger: database.logger
            ).decode((Int, Int, Int).self) {
                return open == 0 && photos >= expected
            }
            return false
        }
    }

    /// A polygon as an array literal (`{x,y,…}`), empty without one: unnest takes no
    /// ragged arrays, and text arrays no nulls from here.
    static func polygonLiteral(_ detection: Detection) -> String {
        detection.polygon.map { "{" + $0.map { String(Float($0)) }.joined(separator: ",") + "}" } ?? ""
    }

    /// An earlier photo's detections, own warnings and thumbnail, to reuse for the same bytes.
    func detections(of photoID: UUID, tenant: UUID) async throws -> ([Detection], [SessionWarning], String?) {
        try await database.withTenant(tenant) { connection in
            var found: [Detection] = []
            for try await (x1, y1, x2, y2, score, classID, tile, polygon) in try await connection.query(
                "SELECT x1, y1, x2, y2, score, class_id, tile, polygon FROM photoml.detections WHERE photo_id = \(photoID) ORDER BY id",
                logger: database.logger
            ).decode((Float, Float, Float, Float, Float, Int16, Int?, [Float]?).self) {
                found.append(
                    Detection(
                        box: Box(x1: Double(x1), y1: Double(y1), x2: Double(x2), y2: Double(y2)), score: Double(score), classID: Int(classID),
                        tile: tile.flatMap { $0 >= 0 ? $0 : nil }, polygon: polygon?.map(Double.init)))
            }
            var warnings: [SessionWarning] = []
            var thumbnailKey: String?
            for try await (text, thumbnail) in try await connection.query(
                "SELECT warnings::text, thumbnail_key FROM photoml.photos WHERE id = \(photoID)", logger: database.logger
            ).decode((String, String?).self) {
                warnings = (try? JSONDecoder().decode([SessionWarning].self, from: Data(text.utf8))) ?? []
                thumbnailKey = thumbnail
            }
            return (found, warnings, thumbnailKey)
        }
    }

    /// Everything the session's result is made from.
    struct SessionFacts: Sendable {
        var parts: [SessionResult.Part]
        var meanScore: Double?
        var surface: Double?
        var calibration: Calibration?
        var bookQuantity: Int?
        var productID: UUID?
    }

    func facts(_ sessionID: UUID, tenant: UUID) async throws -> SessionFacts {
        try await database.withTenant(tenant) { connection in
            var parts: [SessionResult.Part] = []
            let photos = try await connection.query(
                """
                SELECT p.id, CASE WHEN p.orientation >= 5 THEN p.width ELSE p.height END, p.warnings::text, p.stages::text
                FROM photoml.photos p WHERE p.session_id = \(sessionID) ORDER BY p.id
                """, logger: database.logger)
            var photoRows: [(UUID, Int, String, String)] = []
            for try await row in photos.decode((UUID, Int, String, String).self) { photoRows.append(row) }
            var scores = 0.0
            var count = 0
            for (photo, uprightHeight, warnings, stages) in photoRows {
                var classes: [Int] = []
                var centres: [Double] = []
                for try await (y1, y2, score, classID) in try await connection.query(
                    "SELECT y1, y2, score, class_id FROM photoml.detections WHERE photo_id = \(photo)", logger: database.logger
                ).decode((Float, Float, Float, Int16).self) {
                    classes.append(Int(classID))
                    centres.append(Double(y1 + y2) / 2 / Double(max(1, uprightHeight)))
                    scores += Double(score)
                    count += 1
                }
                parts.append(
                    SessionResult.Part(
                        classes: classes, centres: centres,
                        warnings: (try? JSONDecoder().decode([SessionWarning].self, from: Data(warnings.utf8))) ?? [],
                        stages: (try? JSONDecoder().decode([String: Double].self, from: Data(stages.utf8))) ?? [:]))
            }
            var facts = SessionFacts(parts: parts, meanScore: count > 0 ? scores / Double(count) : nil)
            for try await (surface, calibration, book, product) in try await connection.query(
                """
                SELECT l.surface_m2, l.calibration::text,
                       (SELECT sum(b.quantity)::int FROM photoml.stock_batches b
                        WHERE b.location_id = s.location_id AND (s.product_id IS NULL OR b.product_id = s.product_id)),
                       s.product_id
                FROM photoml.photo_sessions s JOIN photoml.locations l ON l.id = s.location_id WHERE s.id = \(sessionID)
                """, logger: database.logger
            ).decode((Double?, String?, Int?, UUID?).self) {
                facts.surface = surface
                facts.calibration = calibration.flatMap { try? JSONDecoder().decode(Calibration.self, from: Data($0.utf8)) }
                facts.bookQuantity = book
                facts.productID = product
            }
            return facts
        }
    }

    func complete(_ sessionID: UUID, result: SessionResult, tenant: UUID) async throws {
        let state = result.warnings.isEmpty ? "completed" : "completed_with_warnings"
        let json = String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
        try await database.withTenant(tenant) { connection in
            // A session one of whose photos failed stays failed until it is retried.
            for try await _ in try await connection.query(
                """
                UPDATE photoml.photo_sessions SET state = \(state), result = \(json)::jsonb, error = NULL, completed_at = now(),
                  version = version + 1, updated_at = now()
                WHERE id = \(sessionID) AND state <> 'failed'
                RETURNING id
                """, logger: database.logger
            ).decode(UUID.self) {
                try await announce(sessionID, tenant: tenant, on: connection)
            }
        }
    }

    /// The photo could not be processed, for good: it and its session fail, with the reason.
    func fail(_ photoID: UUID, error: String, tenant: UUID) async throws {
        try await database.withTenant(tenant) { connection in
            for try await session in try await connection.query(
                """
                WITH photo AS (UPDATE photoml.photos SET state = 'failed', error = \(error) WHERE id = \(photoID) RETURNING session_id)
                UPDATE photoml.photo_sessions SET state = 'failed', error = \(error), version = version + 1, updated_at = now()
                WHERE id = (SELECT session_id FROM photo) AND state <> 'failed'
                RETURNING id
                """, logger: database.logger
            ).decode(UUID.self) {
                try await announce(session, tenant: tenant, on: connection)
            }
        }
    }

    static let source = "/services/photoml"

    /// `photoml.session.v1` for the session's end state, in the transaction that reached it.
    func announce(_ sessionID: UUID, tenant: UUID, on connection: PostgresConnection) async throws {
        let rows = try await connection.query(
            """
            SELECT s.state, s.version, s.uploaded_by, s.location_id, l.name, s.product_id,
                   concat_ws(' ', p.species, p.variety, p.size), s.result::text, s.error,
                   (SELECT count(*)::int FROM photoml.photos ph WHERE ph.session_id = s.id), s.updated_at
            FROM photoml.photo_sessions s JOIN photoml.locations l ON l.id = s.location_id
            LEFT JOIN photoml.products p ON p.id = s.product_id
            WHERE s.id = \(sessionID)
            """, logger: database.logger)
        for try await (state, version, uploadedBy, location, locationName, product, productName, resultJSON, error, photos, at) in rows.decode(
            (String, Int, String, UUID, String, UUID?, String?, String?, String?, Int, Date).self)
        {
            let result = resultJSON.flatMap { try? JSONDecoder().decode(SessionResult.self, from: Data($0.utf8)) }
            let finished = PhotoSessionFinished(
                sessionId: sessionID, tenantId: tenant, locationId: location, locationName: locationName, productId: product,
                productName: product == nil ? nil : productName, uploadedBy: uploadedBy, state: state, photos: photos,
                detected: result?.detected ?? 0,
                counts: (result?.counts ?? []).map { .init(name: $0.name, count: $0.count) },
                estimate: result?.estimation.best.map { .init(method: $0.method.rawValue, count: $0.count, low: $0.low, high: $0.high) },
                warnings: (result?.warnings ?? []).map(\.code.rawValue), error: error, version: version, occurredAt: at)
            try await database.outbox.append(
                try .make(
                    finished, type: PhotoSessionFinished.type(of: state), on: Topics.photomlSession, source: Self.source, tenantID: tenant),
                on: connection)
        }
    }

    /// Partitions for the week ahead; those past `retentionDays` go.
    func maintainPartitions(retentionDays: Int) async throws -> Int {
        try await database.withTransaction { connection in
            try await connection.query("SELECT photoml.ensure_detection_partitions(current_date, 8)", logger: database.logger)
            for try await dropped in try await connection.query(
                "SELECT photoml.drop_detection_partitions_before(current_date - \(retentionDays)::int)", logger: database.logger
            ).decode(Int.self) {
                return dropped
            }
            return 0
        }
    }
}
