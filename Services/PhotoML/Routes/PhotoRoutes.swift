import Foundation
import Hummingbird
import NIOCore
import ServiceKit

/// The upload limits.
struct PhotoLimits: Sendable {
    var maxBytes: Int
    var maxPixels: Int

    init(_ configuration: PhotoMLConfiguration) {
        self.maxBytes = configuration.maxPhotoBytes
        self.maxPixels = configuration.maxPixels
    }
}

/// `/v1/photos` (upload, a photo, its bytes) and `/v1/photo-sessions`.
struct PhotoRoutes: RouteGroup {
    let store: SessionStore
    let stock: StockStore
    let objects: any ObjectStore
    let limits: PhotoLimits
    var intake: PhotoIntake { PhotoIntake(limits: limits) }

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let photos = router.group("v1/photos").add(middleware: AuthenticationMiddleware(verifier: verifier))
        photos.post { request, context in try await upload(request, context) }
        photos.get(":id") { _, context in try await stored(context).photo }
        photos.get(":id/image") { _, context in try await image(context) }
        photos.get(":id/image-url") { _, context in try await imageURL(context) }
        photos.get(":id/thumbnail") { _, context in try await thumbnail(context) }
        let sessions = router.group("v1/photo-sessions").add(middleware: AuthenticationMiddleware(verifier: verifier))
        sessions.get { request, context in try await list(request, context) }
        sessions.get(":id") { _, context in
            let identity = try context.requireIdentity()
            let session = try await Inventory.mapErrors("photo session") {
                try await store.get(try context.pathID("photo session"), tenant: identity.tenantID)
            }
            return EditedResponse(headers: [.eTag: session.etag], response: session)
        }
        sessions.get(":id/detections") { request, context in try await detections(request, context) }
        sessions.get(":id/estimation") { _, context in try await estimation(context) }
        sessions.post(":id/accept") { _, context in try await accept(context) }
    }

    /// Writes the session's proposed adjustment: 201 with the movement.
    func accept(_ context: ServiceRequestContext) async throws -> EditedResponse<StockMovement> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let id = try context.pathID("photo session")
        let (batch, movement) = try await Inventory.mapErrors("photo session") {
            try await stock.accept(session: id, actor: identity.subject, tenant: identity.tenantID)
        }
        return EditedResponse(
            status: .created, headers: [.eTag: batch.etag, .location: "/v1/inventory/stock/\(batch.id.uuidString.lowercased())"], response: movement)
    }

    /// A session's detections (cursor pages), optionally of one class, above a score, of one
    /// photo, or meeting a box (`bbox=x1,y1,x2,y2` in upright photo pixels).
    func detections(_ request: Request, _ context: ServiceRequestContext) async throws -> Page<StoredDetection> {
        let identity = try context.requireIdentity()
        let id = try context.pathID("photo session")
        let query = request.queryItems
        let page = try PageRequest(query)
        var v = Validator()
        var filter = SessionStore.DetectionFilter()
        if let raw = query["classId"] {
            filter.classID = Int(raw)
            v.check(filter.classID.map { $0 >= 0 } ?? false, "classId", "must be a class number (0 or more)")
        }
        if let raw = query["minScore"] {
            filter.minScore = Double(raw)
            v.check(filter.minScore.map { (0...1).contains($0) } ?? false, "minScore", "must be a number from 0 to 1")
        }
        filter.photoID = v.uuid(query, "photoId")
        if let raw = query["bbox"] {
            let numbers = raw.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
            if numbers.count == 4, let x1 = numbers[0], let y1 = numbers[1], let x2 = numbers[2], let y2 = numbers[3],
                [x1, y1, x2, y2].allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= 1_000_000 }), x1 < x2, y1 < y2
            {
                filter.area = Box(x1: x1, y1: y1, x2: x2, y2: y2)
            } else {
                v.add("bbox", "must be x1,y1,x2,y2: four pixel coordinates from 0, with x1 < x2 and y1 < y2")
            }
        }
        try v.finish()
        let found = try await Inventory.mapErrors("photo session") {
            try await store.detections(
                of: id, tenant: identity.tenantID, filter: filter, after: try page.decodedCursor(Int64.self), limit: page.limit + 1)
        }
        return Page(fetched: found, limit: page.limit) { $0.id }
    }

    /// What a completed session estimates, with both methods, the choice and the proposal.
    struct SessionEstimation: ResponseEncodable {
        var sessionId: UUID
        var estimation: Estimation
        var proposal: SessionResult.Proposal?
    }

    func estimation(_ context: ServiceRequestContext) async throws -> SessionEstimation {
        let identity = try context.requireIdentity()
        let id = try context.pathID("photo session")
        let session = try await Inventory.mapErrors("photo session") { try await store.get(id, tenant: identity.tenantID) }
        guard let result = session.result else {
            throw Inventory.problem(.sessionNotCompleted(session.state.rawValue), "photo session")
        }
        return SessionEstimation(sessionId: session.id, estimation: result.estimation, proposal: result.proposal)
    }

    /// `multipart/form-data` with `file` (JPEG or PNG), `locationId`, optional `productId`
    /// and `sessionId`: 202 with the session. The type comes from the bytes, the size from
    /// the header; nothing is decoded here.
    func upload(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<PhotoSession> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        guard let contentType = request.headers[.contentType], MultipartForm.boundary(contentType: contentType) != nil else {
            throw Problem(status: .unsupportedMediaType, detail: "Send the photo as multipart/form-data with a boundary.")
        }
        // The form around the file (ids, part headers) is small; a body past this is refused whole.
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limits.maxBytes + 64 * 1024)
        } catch {
            throw intake.tooLarge
        }
        let form: MultipartForm
        do {
            form = try MultipartForm.parse(Array(buffer: body), contentType: contentType)
        } catch {
            throw Problem.badRequest("The multipart body is malformed: \(error).")
        }
        var v = Validator()
        let location = formID(form, "locationId", required: true, &v)
        let product = formID(form, "productId", required: false, &v)
        let session = formID(form, "sessionId", required: false, &v)
        var reprocess = false
        if let raw = form.part("reprocess")?.text?.trimmingCharacters(in: .whitespacesAndNewlines) {
            v.check(raw == "true" || raw == "false", "reprocess", "must be true or false")
            reprocess = raw == "true"
        }
        var parts = 1
        if let raw = form.part("parts")?.text {
            let value = Int(raw.trimmingCharacters(in: .whitespacesAndNewlines))
            v.check(value.map { (1...20).contains($0) } ?? false, "parts", "must be a whole number from 1 to 20")
            v.check(session == nil, "parts", "is set when a session starts, not when a part is added")
            parts = value ?? 1
        }
        let file = form.part("file")
        v.check(file != nil, "file", "is required")
        try v.finish()
        guard let file, let location else { throw Problem.validation([.init(field: "file", message: "is required")]) }
        let inspected = try intake.inspect(file.bytes)
        let photoID = UUID.v7()
        let key = PhotoIntake.storageKey(tenant: identity.tenantID, photo: photoID)
        try await PhotoIntake.storage { try await objects.put(key, file.bytes) }
        let upload = PhotoUpload(
            locationId: location, productId: product, sessionId: session, parts: parts, reprocess: reprocess, header: inspected.header,
            sha256: inspected.sha256, bytes: file.bytes.count)
        do {
            let recorded = try await Inventory.mapErrors("photo session") {
                try await store.add(upload, photoID: photoID, storageKey: key, actor: identity.subject, tenant: identity.tenantID)
            }
            return EditedResponse(
                status: .accepted,
                headers: [.eTag: recorded.etag, .location: "/v1/photo-sessions/\(recorded.id.uuidString.lowercased())"], response: recorded)
        } catch {
            // Not recorded: its bytes go too.
            try? await objects.delete(key)
            throw error
        }
    }

    func stored(_ context: ServiceRequestContext) async throws -> SessionStore.StoredPhoto {
        let identity = try context.requireIdentity()
        return try await Inventory.mapErrors("photo") { try await store.photo(try context.pathID("photo"), tenant: identity.tenantID) }
    }

    /// The photo's bytes as uploaded, streamed through the service.
    func image(_ context: ServiceRequestContext) async throws -> Response {
        let stored = try await stored(context)
        return try await object(stored.storageKey, contentType: stored.photo.contentType, etag: stored.photo.sha256)
    }

    /// A small JPEG of the upright photo, once it is processed.
    func thumbnail(_ context: ServiceRequestContext) async throws -> Response {
        let stored = try await stored(context)
        guard let key = stored.thumbnailKey else {
            throw Problem.conflict("The photo has no thumbnail: it is \(stored.photo.state) (thumbnails are made while photos are processed).")
        }
        return try await object(key, contentType: "image/jpeg", etag: stored.photo.sha256 + "-thumb")
    }

    struct ImageURL: ResponseEncodable {
        var url: String
        /// `presigned` (send no Authorization) or `bearer` (this service's own path).
        var authorization: String
        var expiresAt: Date
    }

    /// Where to fetch the photo's bytes: straight from the bucket for a while when storage
    /// presigns, else the streamed path.
    func imageURL(_ context: ServiceRequestContext) async throws -> ImageURL {
        let stored = try await stored(context)
        let seconds = 900
        let expiresAt = Date().addingTimeInterval(Double(seconds))
        if let url = objects.presignedURL("GET", key: stored.storageKey, seconds: seconds) {
            return ImageURL(url: url.absoluteString, authorization: "presigned", expiresAt: expiresAt)
        }
        return ImageURL(url: "/v1/photos/\(stored.photo.id.uuidString.lowercased())/image", authorization: "bearer", expiresAt: expiresAt)
    }

    func object(_ key: String, contentType: String, etag: String) async throws -> Response {
        let bytes: [UInt8]
        do {
            bytes = try await PhotoIntake.storage { try await objects.get(key) }
        } catch ObjectStoreError.notFound {
            throw Problem.notFound("The photo's bytes are gone from storage.")
        }
        return Response(
            status: .ok, headers: [.contentType: contentType, .eTag: "\"\(etag)\"", .cacheControl: "private, max-age=86400, immutable"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func list(_ request: Request, _ context: ServiceRequestContext) async throws -> Page<PhotoSession> {
        let identity = try context.requireIdentity()
        let query = request.queryItems
        let page = try PageRequest(query)
        var v = Validator()
        let state = query["state"].map { PhotoSession.State(rawValue: $0) }
        v.check(state != .some(nil), "state", "must be pending, processing, completed, completed_with_warnings or failed")
        let location = v.uuid(query, "locationId")
        try v.finish()
        let sessions = try await store.list(
            tenant: identity.tenantID, state: state ?? nil, location: location, before: try page.decodedCursor(UUID.self), limit: page.limit + 1)
        return Page(fetched: sessions, limit: page.limit) { $0.id }
    }

    /// A UUID form field.
    func formID(_ form: MultipartForm, _ name: String, required: Bool, _ v: inout Validator) -> UUID? {
        guard let part = form.part(name) else {
            if required { v.add(name, "is required") }
            return nil
        }
        guard let text = part.text?.trimmingCharacters(in: .whitespacesAndNewlines), let id = UUID(uuidString: text) else {
            v.add(name, "must be a UUID")
            return nil
        }
        return id
    }
}

extension PhotoSession: ResponseEncodable {}
extension Photo: ResponseEncodable {}
extension StoredDetection: ResponseEncodable {}
