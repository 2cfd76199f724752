import Contracts
import Foundation
import Hummingbird
import ServiceKit

/// `/v1/platform/tenants`: the platform operators' API (scope `platform:admin`).
struct PlatformRoutes: Sendable {
    let tenants: TenantStore
    let audit: AuditLog

    struct CreateInput: Decodable {
        var name: String
        var slug: String?
        var plan: String?
    }

    struct Patch: Decodable {
        var name: String?
        var status: String?
        var plan: String?
        /// Only operators set where social login may send a tenant's members back to.
        var settings: TenantSettings?
    }

    func add(to group: RouterGroup<ServiceRequestContext>) {
        group.post("v1/platform/tenants") { request, context in try await create(request, context) }
        group.get("v1/platform/tenants") { request, context in
            try Self.requireOperator(context)
            let query = request.queryItems
            let page = try PageRequest(query)
            if let status = query["status"], !["active", "suspended"].contains(status) {
                throw Problem.validation([.init(field: "status", message: "must be active or suspended")])
            }
            if let q = query["q"], q.count > 200 { throw Problem.validation([.init(field: "q", message: "must be at most 200 characters")]) }
            return try await tenants.list(query: query["q"].flatMap { $0.isEmpty ? nil : $0 }, status: query["status"], page: page)
        }
        group.get("v1/platform/tenants/:id") { _, context in
            try Self.requireOperator(context)
            guard let tenant = try await tenants.get(try context.uuidParameter("id")) else { throw Problem.notFound() }
            return tenant
        }
        group.patch("v1/platform/tenants/:id") { request, context in try await patch(request, context) }
    }

    static func requireOperator(_ context: ServiceRequestContext) throws {
        guard try context.requireIdentity().isPlatformOperator else {
            throw Problem.forbidden("This needs the platform:admin scope.")
        }
    }

    func create(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<TenantDetails> {
        try Self.requireOperator(context)
        let input = try await request.decodeJSON(CreateInput.self, context: context)
        var validator = Validator()
        let name = validator.text(input.name, "name", max: 200)
        let slug = input.slug ?? name.map(AccountRules.slug(from:)) ?? ""
        if input.slug != nil {
            validator.check(AccountRules.isValidSlug(slug), "slug", "must be 3–40 characters of a–z, 0–9 and inner dashes")
            validator.check(!AccountRules.reservedSlugs.contains(slug), "slug", "is reserved")
        }
        let plan = Plan(rawValue: input.plan ?? "free")
        validator.check(plan != nil, "plan", "must be one of free, pro, enterprise")
        try validator.finish()
        guard let name, let plan else { throw Problem.badRequest("Invalid input.") }
        let tenant = try await tenants.create(name: name, slug: slug, plan: plan)
        try await audit.record(
            request.actor(context).entry("tenant.created", tenant: tenant.id, target: "tenant:\(tenant.id.uuidString.lowercased())"))
        return EditedResponse(status: .created, response: tenant)
    }

    func patch(_ request: Request, _ context: ServiceRequestContext) async throws -> TenantDetails {
        try Self.requireOperator(context)
        let id = try context.uuidParameter("id")
        let input = try await request.decodeJSON(Patch.self, context: context)
        var validator = Validator()
        let name = input.name.flatMap { validator.text($0, "name", max: 200) }
        if let status = input.status { validator.check(["active", "suspended"].contains(status), "status", "must be active or suspended") }
        let plan = input.plan.flatMap(Plan.init(rawValue:))
        validator.check(input.plan == nil || plan != nil, "plan", "must be one of free, pro, enterprise")
        if let settings = input.settings { RedirectURIRules.check(settings, &validator) }
        try validator.finish()
        guard let existing = try await tenants.get(id) else { throw Problem.notFound() }
        if existing.slug == SignIn.platformTenantSlug && input.status == "suspended" {
            throw Problem.conflict("The platform tenant cannot be suspended.")
        }
        guard let tenant = try await tenants.update(id, TenantChange(name: name, settings: input.settings, status: input.status, plan: plan)) else {
            throw Problem.notFound()
        }
        var details: [String: String] = [:]
        if let status = input.status { details["status"] = status }
        if let plan { details["plan"] = plan.rawValue }
        if let settings = input.settings { details["allowedRedirectUris"] = settings.allowedRedirectUris.joined(separator: " ") }
        try await audit.record(
            request.actor(context).entry("tenant.updated_by_operator", tenant: id, target: "tenant:\(id.uuidString.lowercased())", details: details))
        return tenant
    }
}
