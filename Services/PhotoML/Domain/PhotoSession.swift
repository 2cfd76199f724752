import Foundation

/// A counting of one location from one or more photos (shot in parts).
struct PhotoSession: Codable, Sendable, Equatable {
    enum State: String, Codable, Sendable, CaseIterable {
        case pending, processing, completed
        case completedWithWarnings = "completed_with_warnings"
        case failed
    }

    var id: UUID
    var locationId: UUID
    var productId: UUID?
    var state: State
    var uploadedBy: String
    /// The photos it waits for (a location shot in parts); it completes once all are done.
    var expectedPhotos: Int
    var photos: [Photo]
    /// True when a photo of it had been uploaded for this location before.
    var duplicate: Bool
    var error: String?
    /// Once completed: counts, the estimate and the warnings.
    var result: SessionResult?
    var completedAt: Date?
    var version: Int
    var createdAt: Date
    var updatedAt: Date

    var etag: String { "\"v\(version)\"" }
}

/// One uploaded photo, as read from its header.
struct Photo: Codable, Sendable, Equatable {
    var id: UUID
    var sessionId: UUID
    var sha256: String
    var contentType: String
    var width: Int
    var height: Int
    /// EXIF orientation 1…8; `uprightWidth` and `uprightHeight` have it applied.
    var orientation: Int
    var uprightWidth: Int
    var uprightHeight: Int
    var bytes: Int
    /// The earlier photo of the same location with the same bytes.
    var duplicateOf: UUID?
    /// pending, processing, done or failed.
    var state: String
    /// Objects found, once done.
    var detected: Int?
    var error: String?
    var createdAt: Date
}

/// One object found on a session's photo, in the upright photo's pixels.
struct StoredDetection: Codable, Sendable, Equatable {
    var id: Int64
    var photoId: UUID
    var box: Box
    var score: Double
    var classId: Int
    var tile: Int?
    /// A segmenting model's outline: [x, y] points in upright photo pixels.
    var polygon: [[Double]]?
}

/// What an upload names besides the file.
struct PhotoUpload: Sendable {
    var locationId: UUID
    var productId: UUID?
    /// Adds the photo to this session (another part of the same location).
    var sessionId: UUID?
    /// For a new session: how many photos (parts) it takes.
    var parts: Int
    /// Run the model even when the same bytes were processed for this location before.
    var reprocess = false
    var header: ImageHeader
    var sha256: String
    var bytes: Int
}
