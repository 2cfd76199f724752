import Foundation
import Hummingbird
import ServiceKit

/// `/v1/campaigns/segments`: saved filters, and who they match.
struct SegmentRoutes: RouteGroup {
    let store: SegmentStore

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let segments = router.group("v1/campaigns/segments").add(middleware: AuthenticationMiddleware(verifier: verifier))
        segments.post { request, context in try await create(request, context) }
        segments.post("preview") { request, context in try await preview(request, context) }
        segments.get { request, context in
            let identity = try context.requireIdentity()
            let page = try PageRequest(request.queryItems)
            let found = try await store.list(tenant: identity.tenantID, before: try page.decodedCursor(UUID.self), limit: page.limit + 1)
            return Page(fetched: found, limit: page.limit) { $0.id }
        }
        segments.get(":id") { _, context in
            let identity = try context.requireIdentity()
            let segment = try await CampaignProblems.mapErrors("segment") {
                try await store.get(try context.pathID("segment"), tenant: identity.tenantID)
            }
            return EditedResponse(headers: [.eTag: segment.etag], response: segment)
        }
        segments.patch(":id") { request, context in try await update(request, context) }
        segments.delete(":id") { request, context -> HTTPResponse.Status in
            let identity = try context.requireIdentity()
            try identity.requireWriter()
            let id = try context.pathID("segment")
            let expected = try request.ifMatchVersion()
            try await CampaignProblems.mapErrors("segment") { try await store.delete(id, tenant: identity.tenantID, expectedVersion: expected) }
            return .noContent
        }
        segments.get(":id/subscribers") { request, context in try await matching(request, context) }
    }

    static func parse(_ expression: String) throws -> SegmentExpression {
        do {
            return try SegmentExpression.parse(expression)
        } catch {
            throw CampaignProblems.problem(.segment(error), "segment")
        }
    }

    func create(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<Segment> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let input = try await request.decodeJSON(SegmentInput.self, context: context)
        var v = Validator()
        let name = v.text(input.name, "name", max: 200) ?? ""
        v.check(input.expression != nil, "expression", "is required")
        try v.finish()
        let expression = input.expression ?? ""
        let parsed = try Self.parse(expression)
        let segment = try await CampaignProblems.mapErrors("segment") {
            try await store.create(name: name, expression: expression, parsed: parsed, tenant: identity.tenantID)
        }
        return EditedResponse(
            status: .created, headers: [.eTag: segment.etag, .location: "/v1/campaigns/segments/\(segment.id.uuidString.lowercased())"],
            response: segment)
    }

    func update(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<Segment> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let id = try context.pathID("segment")
        let expected = try request.ifMatchVersion()
        let input = try await request.decodeJSON(SegmentInput.self, context: context)
        var v = Validator()
        let name = input.name.flatMap { v.text($0, "name", max: 200) }
        try v.finish()
        let parsed = try input.expression.map { ($0, try Self.parse($0)) }
        let segment = try await CampaignProblems.mapErrors("segment") {
            try await store.update(id, name: name, expression: parsed, tenant: identity.tenantID, expectedVersion: expected)
        }
        return EditedResponse(headers: [.eTag: segment.etag], response: segment)
    }

    struct Matching: ResponseEncodable {
        var count: Int
        var items: [Subscriber]
        var nextCursor: String?
    }

    /// An expression not saved yet: how many it matches, and the newest of them.
    func preview(_ request: Request, _ context: ServiceRequestContext) async throws -> Matching {
        let identity = try context.requireIdentity()
        let input = try await request.decodeJSON(SegmentInput.self, context: context)
        guard let expression = input.expression else { throw Problem.validation([.init(field: "expression", message: "is required")]) }
        let parsed = try Self.parse(expression)
        let (count, found) = try await CampaignProblems.mapErrors("segment") {
            try await store.matching(parsed, tenant: identity.tenantID, before: nil, limit: 11)
        }
        let page = Page(fetched: found, limit: 10) { $0.id }
        return Matching(count: count, items: page.items, nextCursor: page.nextCursor)
    }

    func matching(_ request: Request, _ context: ServiceRequestContext) async throws -> Matching {
        let identity = try context.requireIdentity()
        let id = try context.pathID("segment")
        let page = try PageRequest(request.queryItems)
        let segment = try await CampaignProblems.mapErrors("segment") { try await store.get(id, tenant: identity.tenantID) }
        let parsed = try Self.parse(segment.expression)
        let (count, found) = try await CampaignProblems.mapErrors("segment") {
            try await store.matching(parsed, tenant: identity.tenantID, before: try page.decodedCursor(UUID.self), limit: page.limit + 1)
        }
        let listed = Page(fetched: found, limit: page.limit) { $0.id }
        return Matching(count: count, items: listed.items, nextCursor: listed.nextCursor)
    }
}

extension Segment: ResponseEncodable {}
