import Foundation

/// `photoml.session.v1`: a photo session reached an end state (completed, completed with
/// warnings, or failed), with what it found. A session retried after failing ends again
/// with a higher `version`, so a consumer keeps the newest and drops what it has seen.
public struct PhotoSessionFinished: EventPayload {
    public static let completed = "photoml.session.completed"
    public static let completedWithWarnings = "photoml.session.completed_with_warnings"
    public static let failed = "photoml.session.failed"

    /// Detections of one class.
    public struct ClassCount: Codable, Sendable, Equatable {
        public var name: String
        public var count: Int

        public init(name: String, count: Int) {
            self.name = name
            self.count = count
        }
    }

    /// The stock estimate the session chose, with its interval.
    public struct Estimate: Codable, Sendable, Equatable {
        /// `bands` or `density`.
        public var method: String
        public var count: Int
        public var low: Int
        public var high: Int

        public init(method: String, count: Int, low: Int, high: Int) {
            self.method = method
            self.count = count
            self.low = low
            self.high = high
        }
    }

    public var sessionId: UUID
    public var tenantId: UUID
    public var locationId: UUID
    public var locationName: String
    public var productId: UUID?
    public var productName: String?
    /// The uploader's subject (a user id for people, a client id for machines).
    public var uploadedBy: String
    /// `completed`, `completed_with_warnings` or `failed`.
    public var state: String
    public var photos: Int
    public var detected: Int
    public var counts: [ClassCount]
    public var estimate: Estimate?
    /// Warning codes, e.g. `no_calibration`.
    public var warnings: [String]
    /// Why it failed.
    public var error: String?
    public var version: Int
    public var occurredAt: Date

    public init(
        sessionId: UUID, tenantId: UUID, locationId: UUID, locationName: String, productId: UUID?, productName: String?, uploadedBy: String,
        state: String, photos: Int, detected: Int, counts: [ClassCount], estimate: Estimate?, warnings: [String], error: String?, version: Int,
        occurredAt: Date
    ) {
        self.sessionId = sessionId
        self.tenantId = tenantId
        self.locationId = locationId
        self.locationName = locationName
        self.productId = productId
        self.productName = productName
        self.uploadedBy = uploadedBy
        self.state = state
        self.photos = photos
        self.detected = detected
        self.counts = counts
        self.estimate = estimate
        self.warnings = warnings
        self.error = error
        self.version = version
        self.occurredAt = occurredAt
    }

    /// The event type for an end state.
    public static func type(of state: String) -> String {
        switch state {
        case "completed": completed
        case "completed_with_warnings": completedWithWarnings
        default: failed
        }
    }

    public var key: String { sessionId.uuidString.lowercased() }
    public var subject: String { "photo-sessions/\(key)" }
}
