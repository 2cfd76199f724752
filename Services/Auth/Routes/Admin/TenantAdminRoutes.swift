import Foundation
import Hummingbird
import ServiceKit

/// `GET/PATCH /v1/admin/tenant`: the caller's own tenant.
struct TenantAdminRoutes: Sendable {
    let tenants: TenantStore
    let access: AdminAccess
    let audit: AuditLog

    struct Patch: Decodable {
        var name: String?
        var slug: String?
        var settings: TenantSettings?
    }

    func add(to group: RouterGroup<ServiceRequestContext>) {
        group.get("v1/admin/tenant") { request, context in
            let identity = try await access.require(request, context, action: "tenant.read")
            guard let tenant = try await tenants.get(identity.tenantID) else { throw Problem.notFound() }
            return tenant
        }
        group.patch("v1/admin/tenant") { request, context in try await patch(request, context) }
    }

    func patch(_ request: Request, _ context: ServiceRequestContext) async throws -> TenantDetails {
        let identity = try await access.require(request, context, action: "tenant.update")
        let input = try await request.decodeJSON(Patch.self, context: context)
        var validator = Validator()
        let name = input.name.flatMap { validator.text($0, "name", max: 200) }
        if let slug = input.slug {
            validator.check(AccountRules.isValidSlug(slug), "slug", "must be 3–40 characters of a–z, 0–9 and inner dashes")
            validator.check(!AccountRules.reservedSlugs.contains(slug), "slug", "is reserved")
        }
        try validator.finish()
        // Social login sends a member's one-time code to the redirect URI: an admin who could
        // choose it could collect a member's tokens. Operators manage it (/v1/platform).
        if let settings = input.settings {
            guard let current = try await tenants.get(identity.tenantID) else { throw Problem.notFound() }
            guard settings == current.settings else {
                throw Problem.forbidden("Social-login redirect URIs are managed by the platform operators; ask them to change them.")
            }
        }
        guard let tenant = try await tenants.update(identity.tenantID, TenantChange(name: name, slug: input.slug)) else {
            throw Problem.notFound()
        }
        try await audit.record(
            request.actor(context).entry("tenant.updated", tenant: identity.tenantID, target: "tenant:\(identity.tenantID.uuidString.lowercased())"))
        return tenant
    }
}

/// Which redirect URIs a tenant may allow (RFC 9700 §2.1: exact matching, no open redirects).
enum RedirectURIRules {
    static func check(_ settings: TenantSettings, _ validator: inout Validator) {
        validator.check(settings.allowedRedirectUris.count <= 20, "settings.allowedRedirectUris", "must list at most 20 URIs")
        for (index, uri) in settings.allowedRedirectUris.enumerated() where !isAcceptable(uri) {
            validator.add("settings.allowedRedirectUris[\(index)]", "must be an absolute https URL (http only for localhost) without a fragment")
        }
    }

    static func isAcceptable(_ text: String) -> Bool {
        guard text.count <= 2000, let url = URLComponents(string: text), let host = url.host, !host.isEmpty, url.fragment == nil else {
            return false
        }
        if url.scheme == "https" { return true }
        return url.scheme == "http" && ["localhost", "127.0.0.1", "[::1]", "::1"].contains(host)
    }
}
