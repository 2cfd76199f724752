import Foundation
import Hummingbird
import ServiceKit

/// `/v1/campaigns/subscribers`.
struct SubscriberRoutes: RouteGroup {
    let store: SubscriberStore
    let quotas: PlanQuotas

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let subscribers = router.group("v1/campaigns/subscribers").add(middleware: AuthenticationMiddleware(verifier: verifier))
        subscribers.post { request, context in try await create(request, context) }
        subscribers.get { request, context in try await list(request, context) }
        subscribers.get(":id") { _, context in
            let identity = try context.requireIdentity()
            let subscriber = try await CampaignProblems.mapErrors("subscriber") {
                try await store.get(try context.pathID("subscriber"), tenant: identity.tenantID)
            }
            return EditedResponse(headers: [.eTag: subscriber.etag], response: subscriber)
        }
        subscribers.patch(":id") { request, context in try await update(request, context) }
        subscribers.delete(":id") { request, context -> HTTPResponse.Status in
            let identity = try context.requireIdentity()
            try identity.requireWriter()
            let id = try context.pathID("subscriber")
            let expected = try request.ifMatchVersion()
            try await CampaignProblems.mapErrors("subscriber") { try await store.delete(id, tenant: identity.tenantID, expectedVersion: expected) }
            return .noContent
        }
        subscribers.get(":id/lists") { _, context in
            let identity = try context.requireIdentity()
            let memberships = try await CampaignProblems.mapErrors("subscriber") {
                try await store.memberships(try context.pathID("subscriber"), tenant: identity.tenantID)
            }
            return Page(items: memberships, nextCursor: nil)
        }
    }

    func create(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<Subscriber> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let input = try await request.decodeJSON(NewSubscriberInput.self, context: context)
        var v = Validator()
        let email = SubscriberRules.email(input.email, &v)
        let name = SubscriberRules.name(input.name, &v)
        let attributes = SubscriberRules.attributes(input.attributes, &v)
        let lists = Array(Set(input.lists ?? []))
        v.check(lists.count <= 100, "lists", "at most 100")
        try v.finish()
        let now = Date()
        let draft = Subscriber(
            id: .v7(), email: email, name: name, attributes: attributes, status: input.status ?? .enabled, version: 1, createdAt: now, updatedAt: now)
        let quota = quotas.subscribers(tenant: identity.tenantID)
        let subscriber = try await CampaignProblems.mapErrors("subscriber") {
            try await store.create(draft, lists: lists, quota: quota, tenant: identity.tenantID)
        }
        return EditedResponse(
            status: .created, headers: [.eTag: subscriber.etag, .location: "/v1/campaigns/subscribers/\(subscriber.id.uuidString.lowercased())"],
            response: subscriber)
    }

    func list(_ request: Request, _ context: ServiceRequestContext) async throws -> Page<Subscriber> {
        let identity = try context.requireIdentity()
        let query = request.queryItems
        let page = try PageRequest(query)
        var v = Validator()
        let text = query["q"].flatMap { v.text($0, "q", max: 200, required: false) }
        let status = query["status"].map { Subscriber.Status(rawValue: $0) }
        v.check(status != .some(nil), "status", "must be enabled or blocklisted")
        let list = v.uuid(query, "listId")
        try v.finish()
        let found = try await store.list(
            tenant: identity.tenantID, text: text?.isEmpty == true ? nil : text, status: status ?? nil, list: list,
            before: try page.decodedCursor(UUID.self), limit: page.limit + 1)
        return Page(fetched: found, limit: page.limit) { $0.id }
    }

    func update(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<Subscriber> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let id = try context.pathID("subscriber")
        let expected = try request.ifMatchVersion()
        let patch = try await request.decodeJSON(SubscriberPatch.self, context: context)
        var v = Validator()
        let email = patch.email.map { SubscriberRules.email($0, &v) }
        let name = patch.name.map { SubscriberRules.name($0, &v) }
        let attributes = patch.attributes.map { SubscriberRules.attributes($0, &v) }
        try v.finish()
        let status = patch.status
        let subscriber = try await CampaignProblems.mapErrors("subscriber") {
            try await store.update(id, tenant: identity.tenantID, expectedVersion: expected) { current in
                var next = current
                if let email { next.email = email }
                if let name { next.name = name }
                if let attributes { next.attributes = attributes }
                if let status { next.status = status }
                return next
            }
        }
        return EditedResponse(headers: [.eTag: subscriber.etag], response: subscriber)
    }
}

extension Subscriber: ResponseEncodable {}
extension ListMembership: ResponseEncodable {}
