import Foundation
import Hummingbird
import ServiceKit

/// `/v1/admin/experience/topics`: the tenant's taxonomy (tenant admins). New articles are
/// labelled with it as they arrive; articles already in the catalogue keep their labels.
struct TopicRoutes: RouteGroup {
    let store: TopicStore

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let topics = router.group("v1/admin/experience/topics").add(middleware: AuthenticationMiddleware(verifier: verifier))
        topics.get { _, context in
            let identity = try context.requireIdentity()
            try identity.requireTenantAdmin()
            return Page(items: try await store.all(tenant: identity.tenantID), nextCursor: nil)
        }
        topics.put(":key") { request, context in
            let identity = try context.requireIdentity()
            try identity.requireTenantAdmin()
            let expected = try request.ifMatchVersion()
            let input = try await request.decodeJSON(TopicInput.self, context: context)
            var v = Validator()
            let key = TopicRules.key(context.parameters.get("key"), &v)
            let name = v.text(input.name, "name", max: 120) ?? ""
            let keywords = TopicRules.keywords(input.keywords, &v)
            try v.finish()
            let (saved, created) = try await ExperienceProblems.mapErrors("topic") {
                try await store.put(Topic(key: key, name: name, keywords: keywords, version: 0), expectedVersion: expected, tenant: identity.tenantID)
            }
            return EditedResponse(
                status: created ? .created : .ok, headers: [.eTag: saved.etag, .location: "/v1/admin/experience/topics/\(saved.key)"], response: saved
            )
        }
        topics.delete(":key") { _, context -> HTTPResponse.Status in
            let identity = try context.requireIdentity()
            try identity.requireTenantAdmin()
            try await ExperienceProblems.mapErrors("topic") { try await store.delete(context.parameters.get("key") ?? "", tenant: identity.tenantID) }
            return .noContent
        }
    }
}

extension Topic: ResponseEncodable {}
