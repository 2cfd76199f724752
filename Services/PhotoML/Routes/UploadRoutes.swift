import Foundation
import Hummingbird
import NIOCore
import ServiceKit

/// `/v1/photo-uploads`: the two-step upload for large photos. Ask for a ticket, PUT the
/// bytes where it says (straight into the bucket when storage presigns), then complete:
/// the photo goes into a session as a multipart upload would.
struct UploadRoutes: RouteGroup {
    let uploads: UploadStore
    let objects: any ObjectStore
    let limits: PhotoLimits
    /// How long a ticket is good for.
    var lifetime = 3600

    struct NewUploadInput: Decodable, Sendable {
        var locationId: UUID
        var productId: UUID?
        var sessionId: UUID?
        var parts: Int?
        var reprocess: Bool?
        /// The photo's size in bytes.
        var bytes: Int
    }

    var intake: PhotoIntake { PhotoIntake(limits: limits) }

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let group = router.group("v1/photo-uploads").add(middleware: AuthenticationMiddleware(verifier: verifier))
        group.post { request, context in try await create(request, context) }
        group.get(":id") { _, context in
            let identity = try context.requireIdentity()
            return try await Inventory.mapErrors("upload") {
                try await uploads.get(try context.pathID("upload"), tenant: identity.tenantID).0
            }
        }
        group.put(":id/content") { request, context in try await content(request, context) }
        group.post(":id/complete") { _, context in try await complete(context) }
    }

    /// 201 with the ticket: where to PUT the bytes, how, and until when.
    func create(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<UploadTicket> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let input = try await request.decodeJSON(NewUploadInput.self, context: context)
        var v = Validator()
        let parts = input.parts ?? 1
        v.check((1...20).contains(parts), "parts", "must be a whole number from 1 to 20")
        v.check(input.parts == nil || input.sessionId == nil, "parts", "is set when a session starts, not when a part is added")
        v.check(input.bytes > 0, "bytes", "must be the photo's size in bytes")
        try v.finish()
        guard input.bytes <= limits.maxBytes else { throw intake.tooLarge }
        let id = UUID.v7()
        let key = PhotoIntake.storageKey(tenant: identity.tenantID, photo: id)
        let expiresAt = Date().addingTimeInterval(Double(lifetime))
        let pending = PendingUpload(
            id: id, locationId: input.locationId, productId: input.productId, sessionId: input.sessionId, parts: parts,
            reprocess: input.reprocess ?? false, bytes: input.bytes, expiresAt: expiresAt, completedSessionId: nil, createdAt: Date())
        let created = try await Inventory.mapErrors("photo session") {
            try await uploads.create(pending, storageKey: key, actor: identity.subject, tenant: identity.tenantID)
        }
        let path = "/v1/photo-uploads/\(id.uuidString.lowercased())"
        let ticket: UploadTicket =
            if let url = objects.presignedURL("PUT", key: key, seconds: lifetime) {
                UploadTicket(id: id, uploadUrl: url.absoluteString, method: "PUT", authorization: "presigned", expiresAt: expiresAt, upload: created)
            } else {
                UploadTicket(id: id, uploadUrl: path + "/content", method: "PUT", authorization: "bearer", expiresAt: expiresAt, upload: created)
            }
        return EditedResponse(status: .created, headers: [.location: path], response: ticket)
    }

    /// The bytes, through the service (for storage that does not presign): 204.
    func content(_ request: Request, _ context: ServiceRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let id = try context.pathID("upload")
        let (upload, key) = try await Inventory.mapErrors("upload") { try await uploads.get(id, tenant: identity.tenantID) }
        try Self.requireOpen(upload)
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limits.maxBytes)
        } catch {
            throw intake.tooLarge
        }
        guard body.readableBytes > 0 else { throw Problem.validation([.init(field: "body", message: "must hold the photo's bytes")]) }
        try await PhotoIntake.storage { try await objects.put(key, Array(buffer: body)) }
        return Response(status: .noContent)
    }

    /// 202 with the session the photo went into; the bytes are checked as an upload's are.
    func complete(_ context: ServiceRequestContext) async throws -> EditedResponse<PhotoSession> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let id = try context.pathID("upload")
        let (upload, key) = try await Inventory.mapErrors("upload") { try await uploads.get(id, tenant: identity.tenantID) }
        try Self.requireOpen(upload)
        let bytes: [UInt8]
        do {
            bytes = try await PhotoIntake.storage { try await objects.get(key) }
        } catch ObjectStoreError.notFound {
            throw Problem.conflict("No bytes were put for this upload yet.")
        }
        let inspected: PhotoIntake.Inspected
        do {
            inspected = try intake.inspect(bytes)
        } catch {
            // Refused bytes go; the upload stays open for the right ones.
            try? await objects.delete(key)
            throw error
        }
        let photo = PhotoUpload(
            locationId: upload.locationId, productId: upload.productId, sessionId: upload.sessionId, parts: upload.parts,
            reprocess: upload.reprocess, header: inspected.header, sha256: inspected.sha256, bytes: bytes.count)
        let session = try await Inventory.mapErrors("photo session") {
            try await uploads.complete(id, photo: photo, actor: identity.subject, tenant: identity.tenantID)
        }
        return EditedResponse(
            status: .accepted, headers: [.eTag: session.etag, .location: "/v1/photo-sessions/\(session.id.uuidString.lowercased())"],
            response: session)
    }

    static func requireOpen(_ upload: PendingUpload) throws {
        if upload.completedSessionId != nil { throw Inventory.problem(.uploadClosed("it was completed already"), "upload") }
        if upload.expiresAt <= Date() { throw Inventory.problem(.uploadClosed("it expired; ask for a new one"), "upload") }
    }
}

extension PendingUpload: ResponseEncodable {}
extension UploadTicket: ResponseEncodable {}
