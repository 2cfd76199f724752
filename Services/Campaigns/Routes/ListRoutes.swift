import Foundation
import Hummingbird
import ServiceKit

/// `/v1/campaigns/lists` and their members.
struct ListRoutes: RouteGroup {
    let store: ListStore

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let lists = router.group("v1/campaigns/lists").add(middleware: AuthenticationMiddleware(verifier: verifier))
        lists.post { request, context in try await create(request, context) }
        lists.get { request, context in
            let identity = try context.requireIdentity()
            let page = try PageRequest(request.queryItems)
            let found = try await store.list(tenant: identity.tenantID, before: try page.decodedCursor(UUID.self), limit: page.limit + 1)
            return Page(fetched: found, limit: page.limit) { $0.id }
        }
        lists.get(":id") { _, context in
            let identity = try context.requireIdentity()
            let list = try await CampaignProblems.mapErrors("list") { try await store.get(try context.pathID("list"), tenant: identity.tenantID) }
            return EditedResponse(headers: [.eTag: list.etag], response: list)
        }
        lists.patch(":id") { request, context in try await update(request, context) }
        lists.delete(":id") { request, context -> HTTPResponse.Status in
            let identity = try context.requireIdentity()
            try identity.requireWriter()
            let id = try context.pathID("list")
            let expected = try request.ifMatchVersion()
            try await CampaignProblems.mapErrors("list") { try await store.delete(id, tenant: identity.tenantID, expectedVersion: expected) }
            return .noContent
        }
        lists.get(":id/subscribers") { request, context in try await members(request, context) }
        lists.post(":id/subscribers") { request, context in try await addMembers(request, context) }
        lists.patch(":id/subscribers/:subscriberId") { request, context in try await setStatus(request, context) }
        lists.delete(":id/subscribers/:subscriberId") { _, context -> HTTPResponse.Status in
            let identity = try context.requireIdentity()
            try identity.requireWriter()
            let list = try context.pathID("list")
            let subscriber = try context.pathID("list member", parameter: "subscriberId")
            try await CampaignProblems.mapErrors("list member") { try await store.remove(subscriber, from: list, tenant: identity.tenantID) }
            return .noContent
        }
    }

    func create(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<MailingList> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let input = try await request.decodeJSON(NewListInput.self, context: context)
        var v = Validator()
        let name = v.text(input.name, "name", max: 200) ?? ""
        let description = input.description.flatMap { v.text($0, "description", max: 2000, required: false) }
        try v.finish()
        let now = Date()
        let draft = MailingList(
            id: .v7(), name: name, description: description, visibility: input.visibility ?? .private, optIn: input.optIn ?? .single, counts: nil,
            version: 1, createdAt: now, updatedAt: now)
        let list = try await CampaignProblems.mapErrors("list") { try await store.create(draft, tenant: identity.tenantID) }
        return EditedResponse(
            status: .created, headers: [.eTag: list.etag, .location: "/v1/campaigns/lists/\(list.id.uuidString.lowercased())"], response: list)
    }

    func update(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<MailingList> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let id = try context.pathID("list")
        let expected = try request.ifMatchVersion()
        let patch = try await request.decodeJSON(ListPatch.self, context: context)
        var v = Validator()
        var name: String?
        if case .value(let value) = patch.name { name = v.text(value, "name", max: 200) }
        if case .null = patch.name { v.add("name", "must not be null") }
        var description: String??
        if case .value(let value) = patch.description { description = .some(v.text(value, "description", max: 2000, required: false)) }
        if case .null = patch.description { description = .some(nil) }
        var visibility: MailingList.Visibility?
        if case .value(let value) = patch.visibility { visibility = value }
        if case .null = patch.visibility { v.add("visibility", "must not be null") }
        var optIn: MailingList.OptIn?
        if case .value(let value) = patch.optIn { optIn = value }
        if case .null = patch.optIn { v.add("optIn", "must not be null") }
        try v.finish()
        let (newName, newDescription, newVisibility, newOptIn) = (name, description, visibility, optIn)
        let list = try await CampaignProblems.mapErrors("list") {
            try await store.update(id, tenant: identity.tenantID, expectedVersion: expected) { current in
                var next = current
                if let newName { next.name = newName }
                if let newDescription { next.description = newDescription }
                if let newVisibility { next.visibility = newVisibility }
                if let newOptIn { next.optIn = newOptIn }
                return next
            }
        }
        return EditedResponse(headers: [.eTag: list.etag], response: list)
    }

    func members(_ request: Request, _ context: ServiceRequestContext) async throws -> Page<ListMembership> {
        let identity = try context.requireIdentity()
        let id = try context.pathID("list")
        let query = request.queryItems
        let page = try PageRequest(query)
        var v = Validator()
        let status = query["status"].map { ListMembership.Status(rawValue: $0) }
        v.check(status != .some(nil), "status", "must be unconfirmed, confirmed or unsubscribed")
        try v.finish()
        let found = try await CampaignProblems.mapErrors("list") {
            try await store.members(
                of: id, status: status ?? nil, after: try page.decodedCursor(UUID.self), limit: page.limit + 1, tenant: identity.tenantID)
        }
        return Page(fetched: found, limit: page.limit) { $0.subscriberId }
    }

    struct Added: ResponseEncodable {
        var added: Int
    }

    func addMembers(_ request: Request, _ context: ServiceRequestContext) async throws -> Added {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let id = try context.pathID("list")
        let input = try await request.decodeJSON(AddMembersInput.self, context: context)
        let subscribers = Array(Set(input.subscriberIds))
        var v = Validator()
        v.check(!subscribers.isEmpty && subscribers.count <= 1000, "subscriberIds", "must name 1 to 1000 subscribers")
        try v.finish()
        try await CampaignProblems.mapErrors("list") { try await store.add(subscribers, to: id, status: input.status, tenant: identity.tenantID) }
        return Added(added: subscribers.count)
    }

    struct StatusInput: Decodable, Sendable {
        var status: ListMembership.Status
    }

    func setStatus(_ request: Request, _ context: ServiceRequestContext) async throws -> ListMembership {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let list = try context.pathID("list")
        let subscriber = try context.pathID("list member", parameter: "subscriberId")
        let input = try await request.decodeJSON(StatusInput.self, context: context)
        return try await CampaignProblems.mapErrors("list member") {
            try await store.setStatus(input.status, subscriber: subscriber, list: list, tenant: identity.tenantID)
        }
    }
}

extension MailingList: ResponseEncodable {}
