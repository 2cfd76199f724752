import Foundation

/// `auth.membership.v1`: a user's membership of a tenant after each change. Keyed by
/// tenant and user, so the compacted topic holds every membership's latest state; tasks
/// learns from it who may be an assignee.
public struct MembershipEvent: EventPayload {
    public static let added = "auth.membership.added"
    public static let roleChanged = "auth.membership.role_changed"
    public static let removed = "auth.membership.removed"

    public var tenantId: UUID
    public var userId: UUID
    public var email: String
    public var name: String
    /// `owner`, `admin`, `member` or `viewer`; on `removed`, the role the user last held.
    public var role: String
    /// Milliseconds since the epoch of the change (at least one more than the previous
    /// version), so it keeps increasing when a removed member rejoins; consumers ignore
    /// older versions.
    public var version: Int
    public var occurredAt: Date

    public init(tenantId: UUID, userId: UUID, email: String, name: String, role: String, version: Int, occurredAt: Date) {
        self.tenantId = tenantId
        self.userId = userId
        self.email = email
        self.name = name
        self.role = role
        self.version = version
        self.occurredAt = occurredAt
    }

    public var key: String { "\(tenantId.uuidString.lowercased())/\(userId.uuidString.lowercased())" }
    public var subject: String { "tenants/\(tenantId.uuidString.lowercased())/members/\(userId.uuidString.lowercased())" }
}
