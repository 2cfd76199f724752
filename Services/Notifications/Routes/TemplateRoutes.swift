import Foundation
import Hummingbird
import ServiceKit

/// `/v1/admin/notification-templates` (owners, admins): the built-in templates, the
/// tenant's overrides, saving one (checked against the key's variables), reverting, and
/// a preview rendered with sample data.
struct TemplateRoutes: RouteGroup {
    let store: TemplateStore

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let templates = router.group("v1/admin/notification-templates").add(middleware: AuthenticationMiddleware(verifier: verifier))
        templates.get { _, context -> Catalog in
            let identity = try Self.admin(context)
            let builtIn = TemplateCatalog.builtIn.values.sorted { $0.key < $1.key }.map {
                Catalog.Entry(key: $0.key, variables: $0.variables.sorted(), subject: $0.parts.subject, text: $0.parts.text, html: $0.parts.html)
            }
            return Catalog(builtIn: builtIn, overrides: try await store.overrides(tenant: identity.tenantID))
        }
        templates.put(":key") { request, context -> TemplateStore.Override in
            let identity = try Self.admin(context)
            let key = try Self.editableKey(context)
            let input = try await request.decodeJSON(Input.self, context: context)
            let (parts, locale) = try Self.validated(input, key: key)
            return try await store.save(parts, key: key, locale: locale, tenant: identity.tenantID)
        }
        templates.delete(":key") { request, context -> HTTPResponse.Status in
            let identity = try Self.admin(context)
            let key = try Self.key(context)
            let locale = request.queryItems["locale"] ?? TemplateCatalog.defaultLocale
            guard try await store.delete(key: key, locale: locale, tenant: identity.tenantID) else {
                throw Problem.notFound("This tenant has no \(locale) override of \(key).")
            }
            return .noContent
        }
        templates.post(":key/preview") { request, context -> Preview in
            _ = try Self.admin(context)
            let key = try Self.editableKey(context)
            let input = try await request.decodeJSON(Input.self, context: context)
            let (parts, _) = try Self.validated(input, key: key)
            var data = TemplateCatalog.context(
                TemplateCatalog.builtIn[key]?.sample ?? [:], appURL: "https://app.example.com", recipientName: "Ada Lovelace",
                recipientEmail: "ada@example.com")
            data["tenantName"] = "Acme"
            if key == TemplateCatalog.digestKey {
                data["items"] = [
                    ["title": "Send the quarterly report", "body": "Due tomorrow"], ["title": "Review the budget", "body": "Assigned to you"],
                ]
            }
            let rendered = TemplateCatalog.render(parts, data: data)
            return Preview(subject: rendered.subject, text: rendered.text, html: rendered.html)
        }
    }

    struct Input: Decodable {
        var locale: String?
        var subject: String
        var text: String
        var html: String?
    }

    struct Catalog: ResponseEncodable {
        struct Entry: Encodable {
            var key: String
            var variables: [String]
            var subject: String
            var text: String
            var html: String?
        }
        var builtIn: [Entry]
        var overrides: [TemplateStore.Override]
    }

    struct Preview: ResponseEncodable {
        var subject: String
        var text: String
        var html: String?
    }

    static func admin(_ context: ServiceRequestContext) throws -> Identity {
        let identity = try context.requireIdentity()
        try identity.requireTenantAdmin()
        return identity
    }

    /// Only keys the platform sends can be overridden.
    static func key(_ context: ServiceRequestContext) throws -> String {
        guard let key = context.parameters.get("key"), TemplateCatalog.builtIn[key] != nil else {
            throw Problem.notFound("No template with that key; GET this collection for the keys.")
        }
        return key
    }

    /// A key a tenant may override: not a security email's.
    static func editableKey(_ context: ServiceRequestContext) throws -> String {
        let key = try key(context)
        guard !TemplateCatalog.isSecurity(key) else {
            throw Problem.forbidden("Security emails (\(key)) always use the platform's template, so their links cannot be changed.")
        }
        return key
    }

    static func validated(_ input: Input, key: String) throws -> (TemplateParts, String) {
        var v = Validator()
        let locale = input.locale ?? TemplateCatalog.defaultLocale
        v.check(
            locale.count >= 2 && locale.count <= 16 && locale.allSatisfy { $0.isLetter || $0 == "-" || $0 == "_" }, "locale",
            "must be a language tag such as en or pt-BR")
        v.check(!input.subject.trimmingCharacters(in: .whitespaces).isEmpty && input.subject.count <= 300, "subject", "must be 1 to 300 characters")
        v.check(
            !input.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty && input.text.count <= 50_000, "text", "must be 1 to 50000 characters"
        )
        v.check((input.html?.count ?? 0) <= 200_000, "html", "must be at most 200000 characters")
        try v.finish()
        let parts = TemplateParts(subject: input.subject, text: input.text, html: input.html)
        do {
            try TemplateCatalog.validate(parts, key: key)
        } catch .syntax(let part, let message) {
            throw Problem.validation([.init(field: part, message: "is not a valid Mustache template: \(message)")])
        } catch .unknownVariables(let part, let names) {
            throw Problem.validation([.init(field: part, message: "uses variables \(key) does not provide: \(names.joined(separator: ", "))")])
        }
        return (parts, locale)
    }
}

extension TemplateStore.Override: ResponseEncodable {}
