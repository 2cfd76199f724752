import Foundation
import Hummingbird
import Outbound
import ServiceKit

/// `/v1/admin/webhooks` (owners, admins): register endpoints (the secret is shown once),
/// list, read, delete, rotate the secret with an overlap, enable again, and the deliveries
/// with every attempt, a manual retry and a bulk replay of failures.
struct WebhookRoutes: RouteGroup {
    let store: WebhookStore
    let policy: DestinationPolicy
    static let eventTypes = Set(WebhookFeed.sources.flatMap(\.eventTypes))

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let hooks = router.group("v1/admin/webhooks").add(middleware: AuthenticationMiddleware(verifier: verifier))
        hooks.post { request, context in try await create(request, context) }
        hooks.get { _, context -> EndpointList in
            let identity = try TemplateRoutes.admin(context)
            return EndpointList(items: try await store.list(tenant: identity.tenantID))
        }
        hooks.get(":id") { _, context -> WebhookEndpoint in
            let identity = try TemplateRoutes.admin(context)
            return try found(try await store.get(try Self.id(context), tenant: identity.tenantID))
        }
        hooks.delete(":id") { _, context -> HTTPResponse.Status in
            let identity = try TemplateRoutes.admin(context)
            guard try await store.delete(try Self.id(context), tenant: identity.tenantID) else { throw Self.notFound }
            return .noContent
        }
        hooks.post(":id/rotate-secret") { request, context in try await rotate(request, context) }
        hooks.post(":id/enable") { _, context -> WebhookEndpoint in
            let identity = try TemplateRoutes.admin(context)
            return try found(try await store.enable(try Self.id(context), tenant: identity.tenantID))
        }
        hooks.get(":id/deliveries") { request, context in try await deliveries(request, context) }
        hooks.post(":id/deliveries/replay") { request, context in try await replay(request, context) }
        hooks.post(":id/deliveries/:delivery/retry") { _, context -> HTTPResponse.Status in
            let identity = try TemplateRoutes.admin(context)
            guard let raw = context.parameters.get("delivery"), let delivery = UUID(uuidString: raw),
                try await store.retry(delivery, endpoint: try Self.id(context), tenant: identity.tenantID)
            else { throw Problem.notFound("No such delivery, or it already succeeded.") }
            return .accepted
        }
    }

    struct NewEndpoint: Decodable {
        var url: String
        var description: String?
        var eventTypes: [String]?
    }

    /// The endpoint and, this once, its secret.
    struct Created: ResponseEncodable {
        var endpoint: WebhookEndpoint
        var secret: String
    }

    struct EndpointList: ResponseEncodable { var items: [WebhookEndpoint] }

    func create(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<Created> {
        let identity = try TemplateRoutes.admin(context)
        let input = try await request.decodeJSON(NewEndpoint.self, context: context)
        var v = Validator()
        let description = v.text(input.description ?? "", "description", max: 500, required: false) ?? ""
        let types = input.eventTypes ?? []
        v.check(types.count <= 50, "eventTypes", "at most 50 types")
        let unknown = Set(types).subtracting(Self.eventTypes)
        v.check(
            unknown.isEmpty, "eventTypes",
            "unknown types \(unknown.sorted().joined(separator: ", ")); known: \(Self.eventTypes.sorted().joined(separator: ", "))")
        do {
            try await policy.check(input.url)
        } catch {
            v.add("url", error.description)
        }
        try v.finish()
        let secret = WebhookSignature.newSecret()
        let endpoint = try await store.create(
            url: input.url, description: description, eventTypes: Array(Set(types)).sorted(), secret: secret, tenant: identity.tenantID)
        return EditedResponse(
            status: .created, headers: [.location: "/v1/admin/webhooks/\(endpoint.id.uuidString.lowercased())"],
            response: Created(endpoint: endpoint, secret: secret))
    }

    struct Rotation: Decodable {
        /// How long the old secret keeps signing alongside the new one (default 24 h, at most 7 days).
        var overlapHours: Double?
    }

    func rotate(_ request: Request, _ context: ServiceRequestContext) async throws -> Created {
        let identity = try TemplateRoutes.admin(context)
        let id = try Self.id(context)
        let input = try await request.decodeJSON(Rotation.self, context: context)
        var v = Validator()
        let hours = input.overlapHours ?? 24
        v.check(hours >= 0 && hours <= 168, "overlapHours", "must be from 0 to 168")
        try v.finish()
        let secret = WebhookSignature.newSecret()
        let endpoint = try found(try await store.rotate(id, secret: secret, overlap: hours * 3600, tenant: identity.tenantID))
        return Created(endpoint: endpoint, secret: secret)
    }

    func deliveries(_ request: Request, _ context: ServiceRequestContext) async throws -> Page<WebhookDeliveryView> {
        let identity = try TemplateRoutes.admin(context)
        let id = try Self.id(context)
        let page = try PageRequest(request.queryItems)
        _ = try found(try await store.get(id, tenant: identity.tenantID))
        let views = try await store.deliveries(
            endpoint: id, tenant: identity.tenantID, before: try page.decodedCursor(Date.self), limit: page.limit + 1)
        return Page(fetched: views, limit: page.limit) { $0.createdAt }
    }

    struct Replay: Decodable { var since: Date }
    struct Replayed: ResponseEncodable { var queued: Int }

    func replay(_ request: Request, _ context: ServiceRequestContext) async throws -> Replayed {
        let identity = try TemplateRoutes.admin(context)
        let id = try Self.id(context)
        let input = try await request.decodeJSON(Replay.self, context: context)
        _ = try found(try await store.get(id, tenant: identity.tenantID))
        return Replayed(queued: try await store.replayFailed(endpoint: id, since: input.since, tenant: identity.tenantID))
    }

    static let notFound = Problem.notFound("No such webhook endpoint.")

    static func id(_ context: ServiceRequestContext) throws -> UUID {
        guard let raw = context.parameters.get("id"), let id = UUID(uuidString: raw) else { throw notFound }
        return id
    }

    func found<T>(_ value: T?) throws -> T {
        guard let value else { throw Self.notFound }
        return value
    }
}

extension WebhookEndpoint: ResponseEncodable {}
