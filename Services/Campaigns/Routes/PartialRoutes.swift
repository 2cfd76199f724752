import Foundation
import Hummingbird
import ServiceKit

/// `/v1/campaigns/partials/{name}`: a tenant's header, footer and other shared pieces.
struct PartialRoutes: RouteGroup {
    let store: PartialStore

    struct PartialInput: Decodable, Sendable {
        var body: String
    }

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let partials = router.group("v1/campaigns/partials").add(middleware: AuthenticationMiddleware(verifier: verifier))
        partials.get { _, context in
            let identity = try context.requireIdentity()
            return Page(items: try await store.list(tenant: identity.tenantID), nextCursor: nil)
        }
        partials.get(":name") { _, context in
            let identity = try context.requireIdentity()
            let partial = try await CampaignProblems.mapErrors("partial") { try await store.get(try Self.name(context), tenant: identity.tenantID) }
            return EditedResponse(headers: [.eTag: partial.etag], response: partial)
        }
        partials.put(":name") { request, context in
            let identity = try context.requireIdentity()
            try identity.requireWriter()
            let name = try Self.name(context)
            let expected = try request.ifMatchVersion()
            let input = try await request.decodeJSON(PartialInput.self, context: context, maxSize: 256 * 1024)
            var v = Validator()
            let problems = TemplateRules.problems(
                subject: "partial", html: input.body.isEmpty ? " " : input.body, text: nil, variables: [], kind: .transactional, partials: [])
            for problem in problems { v.add("body", problem.message) }
            try v.finish()
            let (partial, created) = try await CampaignProblems.mapErrors("partial") {
                try await store.put(name, body: input.body, expectedVersion: expected, tenant: identity.tenantID)
            }
            return EditedResponse(status: created ? .created : .ok, headers: [.eTag: partial.etag], response: partial)
        }
        partials.delete(":name") { _, context -> HTTPResponse.Status in
            let identity = try context.requireIdentity()
            try identity.requireWriter()
            let name = try Self.name(context)
            try await CampaignProblems.mapErrors("partial") { try await store.delete(name, tenant: identity.tenantID) }
            return .noContent
        }
    }

    /// Names are lower-case letters, digits, `_` and `-`; anything else names no partial.
    static func name(_ context: ServiceRequestContext) throws -> String {
        guard let name = context.parameters.get("name"), name.range(of: "^[a-z][a-z0-9_-]{0,63}$", options: .regularExpression) != nil else {
            throw Problem.notFound("No such partial.")
        }
        return name
    }
}

extension Partial: ResponseEncodable {}
