import Foundation
import Hummingbird
import ServiceKit

/// `GET /v1/admin/audit-log?action=&since=&until=&limit=&cursor=`.
struct AuditLogRoutes: Sendable {
    let audit: AuditLog
    let access: AdminAccess

    func add(to group: RouterGroup<ServiceRequestContext>) {
        group.get("v1/admin/audit-log") { request, context in
            let identity = try await access.require(request, context, action: "audit_log.read")
            let query = request.queryItems
            let page = try PageRequest(query)
            var validator = Validator()
            let since = Self.date(query["since"], "since", &validator)
            let until = Self.date(query["until"], "until", &validator)
            if let action = query["action"] { validator.check(!action.isEmpty && action.count <= 100, "action", "must be 1–100 characters") }
            try validator.finish()
            return try await audit.list(tenantID: identity.tenantID, filter: .init(action: query["action"], since: since, until: until), page: page)
        }
    }

    static func date(_ text: String?, _ field: String, _ validator: inout Validator) -> Date? {
        guard let text else { return nil }
        guard let date = try? Date(text, strategy: .iso8601) else {
            validator.add(field, "must be an RFC 3339 date-time")
            return nil
        }
        return date
    }
}
