import Foundation

/// A two-step upload: asked for, its bytes put where the ticket said, then completed into
/// a session. Its id becomes the photo's.
struct PendingUpload: Codable, Sendable, Equatable {
    var id: UUID
    var locationId: UUID
    var productId: UUID?
    var sessionId: UUID?
    var parts: Int
    var reprocess: Bool
    /// The size the client announced; the bytes put may not exceed the service's limit.
    var bytes: Int
    var expiresAt: Date
    /// Once completed: the session the photo went into.
    var completedSessionId: UUID?
    var createdAt: Date
}

/// Where and how to put an upload's bytes.
struct UploadTicket: Codable, Sendable {
    var id: UUID
    /// An S3 presigned URL (send no Authorization), or this service's own path (send the
    /// bearer token as for any call).
    var uploadUrl: String
    var method: String
    /// `presigned` or `bearer`.
    var authorization: String
    var expiresAt: Date
    var upload: PendingUpload
}
