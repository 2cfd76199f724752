import Foundation

/// `experience.interaction.v1`: a user did something with an item (a view, a click, reading
/// progress, …), as the experience service accepted it. Keyed by tenant and user, so one
/// user's interactions stay in order; replicas of experience drop that user's cached feed.
public struct InteractionRecorded: EventPayload {
    public static let type = "experience.interaction.recorded"

    public var tenantId: UUID
    /// The client's own id of the event; a repeat of it was not recorded twice.
    public var eventId: String
    /// The tenant's key of the user and of the item.
    public var userKey: String
    public var itemKey: String
    /// view, click, like, save, share, dismiss or progress.
    public var kind: String
    /// Read progress in percent, for `progress`.
    public var progress: Int?
    public var occurredAt: Date

    public init(tenantId: UUID, eventId: String, userKey: String, itemKey: String, kind: String, progress: Int?, occurredAt: Date) {
        self.tenantId = tenantId
        self.eventId = eventId
        self.userKey = userKey
        self.itemKey = itemKey
        self.kind = kind
        self.progress = progress
        self.occurredAt = occurredAt
    }

    public var key: String { "\(tenantId.uuidString.lowercased()):\(userKey)" }
    public var subject: String { "users/\(userKey)" }
}
