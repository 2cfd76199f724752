import Foundation
import Hummingbird
import ServiceKit

/// `/v1/experience/items`: the catalogue, by the tenant's own keys.
struct ItemRoutes: RouteGroup {
    let store: ItemStore
    let counters: CounterStore
    let feeds: FeedStore
    let rules: FeedRulesStore
    let clusters: StoryClusterStore
    let cache: HomeCache
    var weights = RankingWeights()

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let items = router.group("v1/experience/items").add(
            middleware: AuthenticationMiddleware(verifier: verifier, clients: ClientAccess.experience))
        items.get { request, context in try await list(request, context) }
        items.post("bulk") { request, context in try await bulk(request, context) }
        items.get(":key") { _, context in
            let identity = try context.requireIdentity()
            let item = try await ExperienceProblems.mapErrors("item") { try await store.get(try existingKey(context), tenant: identity.tenantID) }
            return EditedResponse(headers: [.eTag: item.etag], response: item)
        }
        items.put(":key") { request, context in try await put(request, context) }
        items.get(":key/similar") { _, context in
            let identity = try context.requireIdentity()
            let key = try existingKey(context)
            let item = try await ExperienceProblems.mapErrors("item") { try await store.get(key, tenant: identity.tenantID) }
            let now = Date()
            let tenant = identity.tenantID
            let allowed = try await cache.rules.value(for: tenant) { [rules] in try await rules.tenantRules(tenant: tenant) }.rules
            let (found, readers) = try await feeds.neighbours(of: key, tenant: tenant, now: now)
            let neighbours = found.filter { allowed.allows($0.0) }
            let fill =
                neighbours.count >= SimilarItems.count
                ? [] : try await feeds.sameCategories(item.categories, except: key, tenant: tenant).filter(allowed.allows)
            return SimilarItemsResponse(
                itemKey: key,
                items: SimilarItems.rank(
                    of: item, neighbours: neighbours, readers: readers, sameCategories: fill, now: now, halfLifeHours: weights.freshnessHalfLifeHours)
            )
        }
        items.get(":key/same-story") { _, context in
            let identity = try context.requireIdentity()
            let key = try existingKey(context)
            _ = try await ExperienceProblems.mapErrors("item") { try await store.get(key, tenant: identity.tenantID) }
            let found = try await clusters.sameStory(as: key, tenant: identity.tenantID)
            return SameStoryResponse(itemKey: key, clusterKey: found?.cluster, items: found?.items ?? [])
        }
        items.get(":key/counters") { _, context in
            let identity = try context.requireIdentity()
            let key = try existingKey(context)
            // An item of another tenant (or none) has no counters to show.
            _ = try await ExperienceProblems.mapErrors("item") { try await store.get(key, tenant: identity.tenantID) }
            return try await counters.counters(key, tenant: identity.tenantID)
        }
        items.delete(":key") { request, context -> HTTPResponse.Status in
            let identity = try context.requireIdentity()
            try identity.requireWriter()
            let key = try existingKey(context)
            let expected = try request.ifMatchVersion()
            try await ExperienceProblems.mapErrors("item") { try await store.delete(key, expectedVersion: expected, tenant: identity.tenantID) }
            cache.forget(tenant: identity.tenantID)
            return .noContent
        }
    }

    /// The key in the path, to write under: one that could not be a key is 422.
    func itemKey(_ context: ServiceRequestContext) throws -> String {
        var v = Validator()
        let key = ItemRules.key(context.parameters.get("key"), "key", &v)
        try v.finish()
        return key
    }

    /// The key in the path, to look up: one that could not be a key names nothing (404).
    func existingKey(_ context: ServiceRequestContext) throws -> String {
        do { return try itemKey(context) } catch { throw ExperienceProblems.problem(.notFound, "item") }
    }

    func put(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<Item> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let key = try itemKey(context)
        let expected = try request.ifMatchVersion()
        let input = try await request.decodeJSON(ItemInput.self, context: context)
        var v = Validator()
        v.check(input.key == nil || input.key == key, "key", "must match the key in the path, or be absent")
        let draft = ItemRules.draft(input, key: key, prefix: "", &v)
        try v.finish()
        let (item, created) = try await ExperienceProblems.mapErrors("item") {
            try await store.put(draft, expectedVersion: expected, tenant: identity.tenantID)
        }
        cache.forget(tenant: identity.tenantID)
        return EditedResponse(
            status: created ? .created : .ok, headers: [.eTag: item.etag, .location: "/v1/experience/items/\(Self.pathKey(key))"], response: item)
    }

    /// `POST /v1/experience/items/bulk` with `{"items": [...]}`: all or nothing.
    func bulk(_ request: Request, _ context: ServiceRequestContext) async throws -> BulkResult {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let input = try await request.decodeJSON(BulkInput.self, context: context, maxSize: 8 << 20)
        var v = Validator()
        v.check(!input.items.isEmpty, "items", "must hold at least one item")
        v.check(input.items.count <= ItemRules.maxBulk, "items", "at most \(ItemRules.maxBulk) per request")
        try v.finish()
        var seen: Set<String> = []
        let drafts = input.items.enumerated().map { index, item in
            let key = ItemRules.key(item.key, "items[\(index)].key", &v)
            v.check(key.isEmpty || seen.insert(key).inserted, "items[\(index)].key", "appears twice in the request")
            return ItemRules.draft(item, key: key, prefix: "items[\(index)].", &v)
        }
        try v.finish()
        let (created, updated) = try await store.putAll(drafts, tenant: identity.tenantID)
        cache.forget(tenant: identity.tenantID)
        return BulkResult(created: created, updated: updated)
    }

    func list(_ request: Request, _ context: ServiceRequestContext) async throws -> Page<Item> {
        let identity = try context.requireIdentity()
        let query = request.queryItems
        let page = try PageRequest(query)
        var v = Validator()
        let status = query["status"].map { raw in
            let status = Item.Status(rawValue: raw)
            v.check(status != nil, "status", "must be one of " + Item.Status.allCases.map(\.rawValue).joined(separator: ", "))
            return status
        }
        let category = query["category"].map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        v.check(category.map { (1...80).contains($0.count) } ?? true, "category", "must be 1 to 80 characters")
        try v.finish()
        let found = try await store.list(
            tenant: identity.tenantID, status: status ?? nil, category: category, limit: page.limit + 1,
            after: try page.decodedCursor(ItemPosition.self))
        return Page(fetched: found, limit: page.limit) { ItemPosition(publishedAt: $0.publishedAt, key: $0.key) }
    }

    static func pathKey(_ key: String) -> String {
        key.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? key
    }

    struct SimilarItemsResponse: ResponseEncodable, Sendable {
        var itemKey: String
        var items: [Recommendation]
    }

    /// The other articles of the item's story (near-duplicates from other sources); no
    /// cluster for an item that did not come from a feed.
    struct SameStoryResponse: ResponseEncodable, Sendable {
        var itemKey: String
        var clusterKey: String?
        var items: [Item]
    }

    struct BulkInput: Decodable, Sendable {
        var items: [ItemInput]
    }

    struct BulkResult: ResponseEncodable, Sendable {
        var created: Int
        var updated: Int
    }
}
extension Item: ResponseEncodable {}
extension ItemCounters: ResponseEncodable {}
