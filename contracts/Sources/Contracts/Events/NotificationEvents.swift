import Foundation

/// `notifications.request.v1`: a command to notify someone. Any service may send it; the
/// notifications service consumes it and renders `templateKey` with `data`. The same
/// `idempotencyKey` twice yields one notification.
public struct NotificationRequest: EventPayload {
    public static let type = "notifications.request"

    public enum Priority: String, Codable, Sendable {
        case urgent, normal, low
    }

    /// A user of the tenant, or a bare address (an invitee has no account yet).
    public struct Recipient: Codable, Sendable, Equatable {
        public var userId: UUID?
        public var email: String?

        public init(userId: UUID? = nil, email: String? = nil) {
            self.userId = userId
            self.email = email
        }
    }

    public var idempotencyKey: String
    public var tenantId: UUID
    public var recipient: Recipient
    /// Groups templates for preferences (e.g. `security`, `account`, `tasks`); transactional
    /// categories ignore opt-outs and quiet hours.
    public var category: String
    public var templateKey: String
    public var data: [String: String]
    /// `email`, `in_app`, `webhook`; empty means the recipient's preferences decide.
    public var channels: [String]
    public var priority: Priority
    public var requestedAt: Date

    public init(
        idempotencyKey: String, tenantId: UUID, recipient: Recipient, category: String, templateKey: String,
        data: [String: String], channels: [String], priority: Priority, requestedAt: Date
    ) {
        self.idempotencyKey = idempotencyKey
        self.tenantId = tenantId
        self.recipient = recipient
        self.category = category
        self.templateKey = templateKey
        self.data = data
        self.channels = channels
        self.priority = priority
        self.requestedAt = requestedAt
    }

    /// Commands are keyed by tenant (ARCHITECTURE: command topics).
    public var key: String { tenantId.uuidString.lowercased() }
    public var subject: String { "notifications/\(idempotencyKey)" }
}

/// `notifications.delivery.v1`: what became of one channel of a notification (`queued`,
/// `deferred`, `sent`, `failed`, `bounced`, `suppressed`; `delivered` and `opened` where a
/// channel can tell). Campaigns and others count them; keyed by notification id so one
/// notification's outcomes stay in order.
public struct NotificationDelivery: EventPayload {
    public static let type = "notifications.delivery"

    public var tenantId: UUID
    public var notificationId: UUID
    public var deliveryId: UUID
    /// The request's idempotency key, so a sender can match outcomes to what it asked for.
    public var idempotencyKey: String
    public var channel: String
    public var state: String
    public var category: String
    public var templateKey: String
    public var recipientUserId: UUID?
    public var error: String?
    public var occurredAt: Date

    public init(
        tenantId: UUID, notificationId: UUID, deliveryId: UUID, idempotencyKey: String, channel: String, state: String, category: String,
        templateKey: String, recipientUserId: UUID?, error: String?, occurredAt: Date
    ) {
        self.tenantId = tenantId
        self.notificationId = notificationId
        self.deliveryId = deliveryId
        self.idempotencyKey = idempotencyKey
        self.channel = channel
        self.state = state
        self.category = category
        self.templateKey = templateKey
        self.recipientUserId = recipientUserId
        self.error = error
        self.occurredAt = occurredAt
    }

    public var key: String { notificationId.uuidString.lowercased() }
    public var subject: String { "notifications/\(key)/deliveries/\(deliveryId.uuidString.lowercased())" }
}
