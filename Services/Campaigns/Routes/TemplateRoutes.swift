import Foundation
import Hummingbird
import ServiceKit

/// `/v1/campaigns/templates`: templates, their versions, diffs, restores and previews.
struct TemplateRoutes: RouteGroup {
    let store: TemplateStore
    let subscribers: SubscriberStore

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let templates = router.group("v1/campaigns/templates").add(middleware: AuthenticationMiddleware(verifier: verifier))
        templates.post { request, context in try await create(request, context) }
        templates.get { request, context in
            let identity = try context.requireIdentity()
            let page = try PageRequest(request.queryItems)
            let found = try await store.list(tenant: identity.tenantID, before: try page.decodedCursor(UUID.self), limit: page.limit + 1)
            return Page(fetched: found, limit: page.limit) { $0.id }
        }
        templates.get(":id") { _, context in
            let identity = try context.requireIdentity()
            let template = try await CampaignProblems.mapErrors("template") {
                try await store.get(try context.pathID("template"), tenant: identity.tenantID)
            }
            return EditedResponse(headers: [.eTag: template.etag], response: template)
        }
        templates.patch(":id") { request, context in try await rename(request, context) }
        templates.delete(":id") { _, context -> HTTPResponse.Status in
            let identity = try context.requireIdentity()
            try identity.requireWriter()
            let id = try context.pathID("template")
            try await CampaignProblems.mapErrors("template") { try await store.delete(id, tenant: identity.tenantID) }
            return .noContent
        }
        templates.post(":id/versions") { request, context in try await save(request, context) }
        templates.get(":id/versions") { request, context in
            let identity = try context.requireIdentity()
            let id = try context.pathID("template")
            let page = try PageRequest(request.queryItems)
            let found = try await CampaignProblems.mapErrors("template") {
                try await store.versions(of: id, tenant: identity.tenantID, below: try page.decodedCursor(Int.self), limit: page.limit + 1)
            }
            return Page(fetched: found, limit: page.limit) { $0.version }
        }
        templates.get(":id/versions/:version") { _, context in
            let identity = try context.requireIdentity()
            let id = try context.pathID("template")
            let number = try Self.versionNumber(context)
            return try await CampaignProblems.mapErrors("template") { try await store.version(number, of: id, tenant: identity.tenantID) }
        }
        templates.post(":id/versions/:version/restore") { _, context in try await restore(context) }
        templates.get(":id/diff") { request, context in try await diff(request, context) }
        templates.post(":id/preview") { request, context in try await preview(request, context) }
    }

    static func versionNumber(_ context: ServiceRequestContext) throws -> Int {
        guard let raw = context.parameters.get("version"), let number = Int(raw), number >= 1 else {
            throw Problem.notFound("No such template version.")
        }
        return number
    }

    func content(_ input: TemplateInput, actor: String, _ v: inout Validator) -> TemplateVersion {
        TemplateVersion(
            templateId: UUID(), version: 0, subject: input.subject, html: input.html, text: input.text?.isEmpty == true ? nil : input.text,
            variables: TemplateRules.variables(input.variables, &v), restoredFrom: nil, createdBy: actor, createdAt: Date())
    }

    func create(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<Template> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let input = try await request.decodeJSON(TemplateInput.self, context: context, maxSize: 1024 * 1024)
        var v = Validator()
        let name = v.text(input.name, "name", max: 200) ?? ""
        let content = content(input, actor: identity.subject, &v)
        try v.finish()
        let template = try await CampaignProblems.mapErrors("template") {
            try await store.create(name: name, kind: input.kind ?? .marketing, content: content, tenant: identity.tenantID)
        }
        return EditedResponse(
            status: .created, headers: [.eTag: template.etag, .location: "/v1/campaigns/templates/\(template.id.uuidString.lowercased())"],
            response: template)
    }

    /// A new version; `If-Match` names the latest version the editor read.
    func save(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<Template> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let id = try context.pathID("template")
        let expected = try request.ifMatchVersion()
        let input = try await request.decodeJSON(TemplateInput.self, context: context, maxSize: 1024 * 1024)
        var v = Validator()
        let content = content(input, actor: identity.subject, &v)
        try v.finish()
        let template = try await CampaignProblems.mapErrors("template") {
            try await store.save(content, template: id, expectedLatest: expected, tenant: identity.tenantID)
        }
        return EditedResponse(
            status: .created,
            headers: [.eTag: template.etag, .location: "/v1/campaigns/templates/\(id.uuidString.lowercased())/versions/\(template.latestVersion)"],
            response: template)
    }

    func restore(_ context: ServiceRequestContext) async throws -> EditedResponse<Template> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let id = try context.pathID("template")
        let number = try Self.versionNumber(context)
        let template = try await CampaignProblems.mapErrors("template") {
            try await store.restore(number, template: id, actor: identity.subject, tenant: identity.tenantID)
        }
        return EditedResponse(status: .created, headers: [.eTag: template.etag], response: template)
    }

    func rename(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<Template> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let id = try context.pathID("template")
        let input = try await request.decodeJSON(TemplatePatch.self, context: context)
        var v = Validator()
        let name = input.name.flatMap { v.text($0, "name", max: 200) }
        try v.finish()
        let template = try await CampaignProblems.mapErrors("template") {
            try await store.rename(id, name: name, kind: input.kind, tenant: identity.tenantID)
        }
        return EditedResponse(headers: [.eTag: template.etag], response: template)
    }

    struct TemplateDiff: ResponseEncodable {
        var from: Int
        var to: Int
        var subject: LineDiff
        var html: LineDiff
        var text: LineDiff
        var variables: LineDiff
    }

    /// Two versions compared part by part, line by line.
    func diff(_ request: Request, _ context: ServiceRequestContext) async throws -> TemplateDiff {
        let identity = try context.requireIdentity()
        let id = try context.pathID("template")
        let query = request.queryItems
        var v = Validator()
        let from = query["from"].flatMap(Int.init)
        let to = query["to"].flatMap(Int.init)
        v.check(from.map { $0 >= 1 } ?? false, "from", "must be a version number")
        v.check(to.map { $0 >= 1 } ?? false, "to", "must be a version number")
        try v.finish()
        let (old, new) = try await CampaignProblems.mapErrors("template") {
            (
                try await store.version(from ?? 1, of: id, tenant: identity.tenantID),
                try await store.version(to ?? 1, of: id, tenant: identity.tenantID)
            )
        }
        return TemplateDiff(
            from: old.version, to: new.version, subject: LineDiff(from: old.subject, to: new.subject), html: LineDiff(from: old.html, to: new.html),
            text: LineDiff(from: old.text ?? "", to: new.text ?? ""),
            variables: LineDiff(from: old.variables.joined(separator: "\n"), to: new.variables.joined(separator: "\n")))
    }

    struct PreviewInput: Decodable, Sendable {
        var version: Int?
        var subscriberId: UUID?
        var data: [String: JSONValue]?
    }

    struct Preview: ResponseEncodable {
        var version: Int
        var subject: String
        var html: String
        var text: String
        var variables: Variables

        struct Variables: Codable, Sendable {
            var used: [String]
            var missing: [String]
        }
    }

    /// A version rendered with sample data or for a real subscriber; links point nowhere.
    func preview(_ request: Request, _ context: ServiceRequestContext) async throws -> Preview {
        let identity = try context.requireIdentity()
        let id = try context.pathID("template")
        let input = try await request.decodeJSON(PreviewInput.self, context: context)
        var v = Validator()
        let data = SubscriberRules.attributes(input.data, &v)
        v.check(input.version.map { $0 >= 1 } ?? true, "version", "must be a version number")
        try v.finish()
        let template = try await CampaignProblems.mapErrors("template") { try await store.get(id, tenant: identity.tenantID) }
        let version: TemplateVersion
        if let number = input.version {
            version = try await CampaignProblems.mapErrors("template") { try await store.version(number, of: id, tenant: identity.tenantID) }
        } else if let latest = template.latest {
            version = latest
        } else {
            throw Problem.notFound("The template has no versions.")
        }
        var email = "ada@example.com"
        var name = "Ada Lovelace"
        var attributes: [String: JSONValue] = [:]
        if let subscriberID = input.subscriberId {
            let subscriber = try await CampaignProblems.mapErrors("subscriber") { try await subscribers.get(subscriberID, tenant: identity.tenantID) }
            (email, name, attributes) = (subscriber.email, subscriber.name, subscriber.attributes)
        }
        let links = ["unsubscribeUrl": "https://example.invalid/unsubscribe", "preferencesUrl": "https://example.invalid/preferences"]
        let context = TemplateRendering.context(email: email, name: name, attributes: attributes, data: data, links: links)
        let rendered = TemplateRendering.render(version, partials: try await store.partials(tenant: identity.tenantID), context: context)
        let (used, missing) = TemplateRendering.variables(version, context: context)
        return Preview(
            version: version.version, subject: rendered.subject, html: rendered.html, text: rendered.text,
            variables: .init(used: used, missing: missing))
    }
}

extension Template: ResponseEncodable {}
extension TemplateVersion: ResponseEncodable {}
