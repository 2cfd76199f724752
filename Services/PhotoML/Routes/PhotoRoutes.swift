import Crypto
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

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let photos = router.group("v1/photos").add(middleware: AuthenticationMiddleware(verifier: verifier))
        photos.post { request, context in try await upload(request, context) }
        photos.get(":id") { _, context in
            let identity = try context.requireIdentity()
            let (photo, _) = try await Inventory.mapErrors("photo") {
                try await store.photo(try Inventory.pathID(context, "photo"), tenant: identity.tenantID)
            }
            return photo
        }
        photos.get(":id/image") { _, context in try await image(context) }
        let sessions = router.group("v1/photo-sessions").add(middleware: AuthenticationMiddleware(verifier: verifier))
        sessions.get { request, context in try await list(request, context) }
        sessions.get(":id") { _, context in
            let identity = try context.requireIdentity()
            let session = try await Inventory.mapErrors("photo session") {
                try await store.get(try Inventory.pathID(context, "photo session"), tenant: identity.tenantID)
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
        try identity.require(anyOf: Inventory.writers)
        let id = try Inventory.pathID(context, "photo session")
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
        let id = try Inventory.pathID(context, "photo session")
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
        filter.photoID = Inventory.queryID(query, "photoId", &v)
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
        let id = try Inventory.pathID(context, "photo session")
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
        try identity.require(anyOf: Inventory.writers)
        guard let contentType = request.headers[.contentType], MultipartForm.boundary(contentType: contentType) != nil else {
            throw Problem(status: .unsupportedMediaType, detail: "Send the photo as multipart/form-data with a boundary.")
        }
        // The form around the file (ids, part headers) is small; a body past this is refused whole.
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limits.maxBytes + 64 * 1024)
        } catch {
            throw Problem(status: .contentTooLarge, detail: "A photo may have at most \(limits.maxBytes) bytes.")
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
        guard file.bytes.count <= limits.maxBytes else {
            throw Problem(status: .contentTooLarge, detail: "A photo may have at most \(limits.maxBytes) bytes.")
        }
        let header: ImageHeader
        do {
            header = try ImageHeader.read(file.bytes)
        } catch .unsupported {
            throw Problem(status: .unsupportedMediaType, detail: "Only JPEG and PNG photos are accepted (told by their bytes, not their name).")
        } catch .corrupt(let reason) {
            throw Problem.validation([.init(field: "file", message: "is not a readable photo: \(reason)")])
        }
        guard header.pixels <= limits.maxPixels else {
            throw Problem.validation([
                .init(field: "file", message: "announces \(header.width) × \(header.height) pixels; at most \(limits.maxPixels) are accepted")
            ])
        }
        let sha256 = SHA256.hash(data: file.bytes).map { String(format: "%02x", $0) }.joined()
        let photoID = UUID.v7()
        let key = "\(identity.tenantID.uuidString.lowercased())/\(photoID.uuidString.lowercased())"
        try await objects.put(key, file.bytes)
        let upload = PhotoUpload(
            locationId: location, productId: product, sessionId: session, parts: parts, reprocess: reprocess, header: header, sha256: sha256,
            bytes: file.bytes.count)
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

    func image(_ context: ServiceRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let (photo, key) = try await Inventory.mapErrors("photo") {
            try await store.photo(try Inventory.pathID(context, "photo"), tenant: identity.tenantID)
        }
        let bytes: [UInt8]
        do {
            bytes = try await objects.get(key)
        } catch ObjectStoreError.notFound {
            throw Problem.notFound("The photo's bytes are gone from storage.")
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: photo.contentType, .eTag: "\"\(photo.sha256)\"", .cacheControl: "private, max-age=86400, immutable",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func list(_ request: Request, _ context: ServiceRequestContext) async throws -> Page<PhotoSession> {
        let identity = try context.requireIdentity()
        let query = request.queryItems
        let page = try PageRequest(query)
        var v = Validator()
        let state = query["state"].map { PhotoSession.State(rawValue: $0) }
        v.check(state != .some(nil), "state", "must be pending, processing, completed, completed_with_warnings or failed")
        let location = Inventory.queryID(query, "locationId", &v)
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
