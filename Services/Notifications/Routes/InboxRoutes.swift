import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceKit

/// `/v1/notifications`: the signed-in user's inbox, its live stream and preferences.
struct InboxRoutes: RouteGroup {
    let store: NotificationStore
    let preferences: PreferenceStore
    /// How often an open stream looks for new notifications.
    let streamPoll: Duration
    /// At most this many open streams per user and replica (a browser's tabs and devices).
    var streams = StreamSlots(perUser: 5)
    let tickets: StreamTicketStore

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        // Public at the gateway: a browser's EventSource opens it with a ticket, other clients
        // with their bearer token; either is checked here.
        router.get("v1/notifications/stream") { request, context in
            let (user, tenant) = try await streamCaller(request, verifier: verifier)
            return try await stream(request, context, user: user, tenant: tenant)
        }
        let inbox = router.group("v1/notifications").add(middleware: AuthenticationMiddleware(verifier: verifier))
        inbox.post("stream-tickets") { _, context -> EditedResponse<Ticket> in
            let (user, tenant) = try Self.user(context)
            let ticket = try await tickets.issue(user: user, tenant: tenant)
            return EditedResponse(
                status: .created, headers: [.cacheControl: "no-store"], response: Ticket(ticket: ticket.text, expiresIn: StreamTicketStore.lifetime))
        }
        inbox.get { request, context in try await list(request, context) }
        inbox.get("unread-count") { _, context -> UnreadCount in
            let (user, tenant) = try Self.user(context)
            return UnreadCount(count: try await store.unreadCount(user: user, tenant: tenant))
        }
        inbox.post("read-all") { _, context -> MarkedCount in
            let (user, tenant) = try Self.user(context)
            return MarkedCount(updated: try await store.markAllRead(user: user, tenant: tenant))
        }
        inbox.post(":id/read") { _, context in try await mark(context, .read) }
        inbox.post(":id/unread") { _, context in try await mark(context, .unread) }
        inbox.post(":id/archive") { _, context in try await mark(context, .archived) }
        inbox.get("preferences") { _, context -> Preferences in
            let (user, tenant) = try Self.user(context)
            return try await preferences.preferences(of: user, tenant: tenant)
        }
        inbox.put("preferences") { request, context -> Preferences in
            let (user, tenant) = try Self.user(context)
            let input = try await request.decodeJSON(Preferences.self, context: context)
            let problems = input.problems()
            guard problems.isEmpty else { throw Problem.validation(problems.map { .init(field: $0.0, message: $0.1) }) }
            try await preferences.save(input, of: user, tenant: tenant)
            return input
        }
    }

    private static let lastEventID = HTTPField.Name("Last-Event-ID")

    struct UnreadCount: ResponseEncodable { var count: Int }
    struct Ticket: ResponseEncodable {
        var ticket: String
        var expiresIn: Int
    }

    /// Who opens a stream: the ticket's user (used up now), else the bearer token's.
    func streamCaller(_ request: Request, verifier: TokenVerifier) async throws -> (UUID, UUID) {
        if let ticket = request.uri.queryParameters["ticket"] {
            guard ticket.count <= 200, let redeemed = try await tickets.redeem(String(ticket)) else {
                throw Problem.unauthorized("The stream ticket is invalid, used or expired; ask for a new one.")
            }
            return (redeemed.user, redeemed.tenant)
        }
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw Problem.unauthorized("A stream ticket or a bearer access token is required.")
        }
        let identity = try await verifier.verify(String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces))
        guard let user = identity.userID else { throw Problem.forbidden("Only a signed-in user has notifications.") }
        return (user, identity.tenantID)
    }
    struct MarkedCount: ResponseEncodable { var updated: Int }

    /// Notifications are a person's: an API client has no inbox.
    static func user(_ context: ServiceRequestContext) throws -> (UUID, UUID) {
        let identity = try context.requireIdentity()
        guard let user = identity.userID else { throw Problem.forbidden("Only a signed-in user has notifications.") }
        return (user, identity.tenantID)
    }

    func list(_ request: Request, _ context: ServiceRequestContext) async throws -> Page<InboxItem> {
        let (user, tenant) = try Self.user(context)
        let query = request.queryItems
        let page = try PageRequest(query)
        var v = Validator()
        for flag in ["unread", "archived"] {
            v.check(query[flag] == nil || query[flag] == "true" || query[flag] == "false", flag, "must be true or false")
        }
        try v.finish()
        let items = try await store.inbox(
            user: user, tenant: tenant, unreadOnly: query["unread"] == "true", archived: query["archived"] == "true",
            before: try page.decodedCursor(Int.self), limit: page.limit + 1)
        return Page(fetched: items, limit: page.limit) { $0.sequence }
    }

    func mark(_ context: ServiceRequestContext, _ mark: NotificationStore.Mark) async throws -> InboxItem {
        let (user, tenant) = try Self.user(context)
        guard let raw = context.parameters.get("id"), let id = UUID(uuidString: raw),
            let item = try await store.mark(id, mark, user: user, tenant: tenant)
        else { throw Problem.notFound("No such notification.") }
        return item
    }

    /// Server-Sent Events: each new inbox notification as `event: notification` with its
    /// sequence number as the event id. A client reconnecting with `Last-Event-ID` gets
    /// what it missed first; without it, only what arrives from now on. The stream ends
    /// after 9 minutes, inside the gateway's longest route timeout (10 minutes) and an
    /// access token's life (15), and the client reconnects.
    func stream(_ request: Request, _ context: ServiceRequestContext, user: UUID, tenant: UUID) async throws -> Response {
        let start: Int
        if let name = Self.lastEventID, let raw = request.headers[name] {
            guard let resumed = Int(raw), resumed >= 0 else { throw Problem.badRequest("Last-Event-ID must be a notification sequence number.") }
            start = resumed
        } else {
            start = try await store.latestSequence(user: user, tenant: tenant)
        }
        let store = self.store
        let poll = streamPoll
        let streams = self.streams
        guard streams.take(user) else {
            throw Problem.tooManyRequests("\(streams.perUser) notification streams are open for you already; close one first.", retryAfter: 30)
        }
        let body = ResponseBody { writer in
            defer { streams.give(user) }
            var after = start
            let ends = ContinuousClock.now + .seconds(9 * 60)
            var lastWrite = ContinuousClock.now
            try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
            while ContinuousClock.now < ends, !Task.isCancelled {
                let items = try await store.since(after, user: user, tenant: tenant)
                if !items.isEmpty {
                    var chunk = ""
                    for item in items {
                        let json = String(decoding: try PlatformJSON.encoder.encode(item), as: UTF8.self)
                        chunk += "id: \(item.sequence)\nevent: notification\ndata: \(json)\n\n"
                        after = item.sequence
                    }
                    try await writer.write(ByteBuffer(string: chunk))
                    lastWrite = .now
                } else if ContinuousClock.now - lastWrite > .seconds(15) {
                    // A comment line keeps proxies from closing an idle stream.
                    try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    lastWrite = .now
                }
                try await Task.sleep(for: poll)
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }
}

extension InboxItem: ResponseEncodable {}
extension Preferences: ResponseEncodable {}
