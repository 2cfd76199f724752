import Foundation

/// `auth.tenant.v1`: the full state of a tenant after each change, so the compacted
/// topic holds every tenant's latest state (the gateway rebuilds its table from it).
public struct TenantEvent: EventPayload {
    public static let created = "auth.tenant.created"
    public static let updated = "auth.tenant.updated"
    public static let suspended = "auth.tenant.suspended"
    public static let reactivated = "auth.tenant.reactivated"

    public var tenantId: UUID
    public var name: String
    public var slug: String
    /// `active` or `suspended`.
    public var status: String
    /// `free`, `pro` or `enterprise`.
    public var plan: String
    /// Increases with every change of the tenant; consumers ignore older versions.
    public var version: Int
    public var occurredAt: Date

    public init(tenantId: UUID, name: String, slug: String, status: String, plan: String, version: Int, occurredAt: Date) {
        self.tenantId = tenantId
        self.name = name
        self.slug = slug
        self.status = status
        self.plan = plan
        self.version = version
        self.occurredAt = occurredAt
    }

    public var key: String { tenantId.uuidString.lowercased() }
    public var subject: String { "tenants/\(key)" }
}

/// `auth.user.v1`, type `auth.user.registered`.
public struct UserRegistered: EventPayload {
    public static let type = "auth.user.registered"

    public var userId: UUID
    public var tenantId: UUID
    public var email: String
    public var name: String
    public var registeredAt: Date

    public init(userId: UUID, tenantId: UUID, email: String, name: String, registeredAt: Date) {
        self.userId = userId
        self.tenantId = tenantId
        self.email = email
        self.name = name
        self.registeredAt = registeredAt
    }

    public var key: String { userId.uuidString.lowercased() }
    public var subject: String { "users/\(key)" }
}
