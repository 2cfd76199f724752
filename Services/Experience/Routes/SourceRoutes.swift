import Foundation
import Hummingbird
import Outbound
import ServiceKit

/// `/v1/experience/sources`: feeds a user follows, and the tenant's for everyone (tenant
/// admins). A new source is fetched once before it is stored: a URL that holds no feed (nor a
/// page that names one, nor a page with a title) is 422 with the reason.
struct SourceRoutes: RouteGroup {
    let store: SourceStore
    let intake: IntakeStore
    let fetcher: FeedFetcher

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let sources = router.group("v1/experience/sources").add(
            middleware: AuthenticationMiddleware(verifier: verifier, clients: ClientAccess.experience))
        sources.post { request, context in try await create(request, context) }
        sources.get { request, context in
            let identity = try context.requireIdentity()
            let user = identity.isAPIClient ? request.queryItems["userId"] : identity.actsForEveryone ? nil : identity.subject
            return Page(items: try await store.list(user: user, tenant: identity.tenantID), nextCursor: nil)
        }
        sources.get(":id") { _, context in try await visible(context).1 }
        sources.delete(":id") { _, context -> HTTPResponse.Status in
            let (identity, source) = try await visible(context)
            // The tenant's sources are its admins' to remove; a user's, theirs (or an API client's).
            if source.userId == nil { try identity.requireTenantAdmin() }
            try await ExperienceProblems.mapErrors("source") { try await store.delete(source.id, tenant: identity.tenantID) }
            return .noContent
        }
        sources.post(":id/fetch") { _, context -> HTTPResponse.Status in
            let (identity, source) = try await visible(context)
            _ = try await ExperienceProblems.mapErrors("source") { try await store.requestFetch(source.id, tenant: identity.tenantID) }
            return .accepted
        }
    }

    /// Tenant admins and API clients see every source of the tenant; a user, theirs and the tenant's.
    func visible(_ context: ServiceRequestContext) async throws -> (Identity, Source) {
        let identity = try context.requireIdentity()
        let id = try context.pathID("source")
        let source = try await ExperienceProblems.mapErrors("source") { try await store.get(id, tenant: identity.tenantID).source }
        guard identity.actsForEveryone || source.userId == nil || source.userId == identity.subject else {
            throw ExperienceProblems.problem(.notFound, "source")
        }
        return (identity, source)
    }

    func create(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<Source> {
        let identity = try context.requireIdentity()
        let input = try await request.decodeJSON(SourceInput.self, context: context)
        var v = Validator()
        let tenantWide = input.tenantWide ?? false
        var user: String?
        if !tenantWide {
            switch InteractionRules.userKey(own: identity.isAPIClient ? nil : identity.subject, named: input.userId) {
            case .success(let key): user = key
            case .failure(let refusal): v.add(refusal.field, refusal.reason)
            }
        }
        var url = ""
        do {
            url = try fetcher.configuration.policy.checkSyntax(input.url ?? "").absoluteString
        } catch {
            v.add("url", input.url == nil ? "is required" : error.description)
        }
        try v.finish()
        // Anyone may follow feeds for themselves (a viewer too: it changes only their own
        // reading); the tenant's sources are its admins'.
        if tenantWide { try identity.requireTenantAdmin() }
        let found: (document: FeedFetcher.Document, feed: ParsedFeed)
        do {
            found = try await fetcher.discover(url)
        } catch {
            throw Problem.validation([.init(field: "url", message: error.description)])
        }
        let tenant = identity.tenantID
        let source = try await ExperienceProblems.mapErrors("source") {
            try await store.create(
                url: found.document.url.absoluteString, user: user, title: found.feed.title ?? found.document.url.host ?? "",
                siteURL: found.feed.link?.absoluteString, format: found.feed.format.rawValue, etag: found.document.etag,
                lastModified: found.document.lastModified, tenant: tenant)
        }
        let now = Date()
        // The articles reach the catalogue through the intake's jobs, within seconds.
        try await intake.queue(found.feed.entries, from: source, tenant: tenant)
        try await store.recordSuccess(
            source.id, notModified: false, etag: found.document.etag, lastModified: found.document.lastModified, movedTo: nil, tenant: tenant,
            now: now)
        let stored = try await store.get(source.id, tenant: tenant).source
        return EditedResponse(status: .created, headers: [.location: "/v1/experience/sources/\(stored.id.uuidString.lowercased())"], response: stored)
    }
}

extension Source: ResponseEncodable {}
