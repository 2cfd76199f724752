import Foundation
import Hummingbird
import ServiceKit

/// The index in the admin console: health, reindex runs and failed documents. Tenant
/// owners and admins see and act on their tenant; a reindex of every tenant needs a
/// platform operator (`platform:admin`).
struct IndexAdminRoutes: RouteGroup {
    let indexer: Indexer
    let health: HealthStore
    let reindexes: ReindexStore

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let admin = router.group("v1/admin/search").add(middleware: AuthenticationMiddleware(verifier: verifier))
        admin.get("health") { _, context in try await healthReport(context) }
        admin.post("reindex") { request, context in try await startReindex(request, context) }
        admin.get("reindex/:id") { _, context in try await reindexRun(context) }
        admin.get("failures") { request, context in try await failures(request, context) }
        admin.get("failures/:id") { _, context in try await failure(context) }
        admin.post("failures/:id/replay") { _, context in try await replay(context) }
        admin.post("failures/replay") { request, context in try await replayAll(request, context) }
    }

    static func requireAdmin(_ context: ServiceRequestContext) throws -> Identity {
        let identity = try context.requireIdentity()
        try identity.requireTenantAdmin()
        return identity
    }

    static func id(_ context: ServiceRequestContext, _ what: String) throws -> UUID {
        guard let raw = context.parameters.get("id"), let id = UUID(uuidString: raw) else { throw Problem.notFound("No such \(what).") }
        return id
    }

    // MARK: health

    struct Health: ResponseEncodable {
        struct Consumer: Encodable {
            var group: String
            var lag: Int64
            var partitions: [HealthStore.ConsumerPartition]
        }

        var documents: [String: Int]
        var lastIndexedAt: Date?
        var consumer: Consumer
        var failures: [String: Int]
        var generation: ReindexStore.Generations
        var reindexes: [ReindexStore.Run]
    }

    func healthReport(_ context: ServiceRequestContext) async throws -> Health {
        let tenant = try Self.requireAdmin(context).tenantID
        let documents = try await health.documents(tenant: tenant)
        let partitions = try await health.consumer(Indexer.group)
        var failures = try await indexer.failures.pending(tenant: tenant)
        for state in [FailureStore.State.retrying, .failed] where failures[state.rawValue] == nil { failures[state.rawValue] = 0 }
        return Health(
            documents: documents.byType, lastIndexedAt: documents.lastIndexedAt,
            consumer: .init(group: Indexer.group, lag: partitions.reduce(0) { $0 + $1.lag }, partitions: partitions),
            failures: failures, generation: try await reindexes.generations(tenant: tenant),
            reindexes: try await reindexes.runs(tenant: tenant, limit: 5))
    }

    // MARK: reindex

    struct ReindexRequest: Decodable {
        /// `tenant` (the caller's, the default) or `all`.
        var scope: String?
    }

    func startReindex(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<ReindexStore.Run> {
        let identity = try Self.requireAdmin(context)
        let input = try await request.decodeJSON(ReindexRequest.self, context: context)
        var v = Validator()
        let scope = input.scope ?? "tenant"
        v.check(["tenant", "all"].contains(scope), "scope", "must be tenant or all")
        try v.finish()
        if scope == "all", !identity.isPlatformOperator {
            throw Problem.forbidden("Reindexing every tenant needs a platform operator (platform:admin).")
        }
        guard let user = identity.userID else { throw Problem.forbidden("A reindex is started by a user.") }
        switch try await reindexes.start(tenant: scope == "all" ? nil : identity.tenantID, requestedBy: user) {
        case .started(let run):
            return EditedResponse(
                status: .accepted, headers: [.location: "/v1/admin/search/reindex/\(run.id.uuidString.lowercased())"], response: run)
        case .alreadyRunning(let run):
            throw Problem.conflict("Reindex \(run.id.uuidString.lowercased()) is still replaying; wait for it to switch.")
        case .coolingDown(let seconds):
            throw Problem.tooManyRequests("This tenant's index was rebuilt recently; a new reindex may start in \(seconds) s.", retryAfter: seconds)
        }
    }

    func reindexRun(_ context: ServiceRequestContext) async throws -> ReindexStore.Run {
        let identity = try Self.requireAdmin(context)
        let id = try Self.id(context, "reindex")
        guard let run = try await reindexes.run(id),
            run.tenantId == identity.tenantID || (run.tenantId == nil && identity.isPlatformOperator)
        else { throw Problem.notFound("No such reindex.") }
        return run
    }

    // MARK: failures

    func failures(_ request: Request, _ context: ServiceRequestContext) async throws -> Page<FailureStore.Failure> {
        let tenant = try Self.requireAdmin(context).tenantID
        let query = request.queryItems
        let page = try PageRequest(query)
        var state: FailureStore.State?
        if let raw = query["state"] {
            state = FailureStore.State(rawValue: raw)
            if state == nil {
                throw Problem.validation([.init(field: "state", message: "must be one of retrying, failed, resolved")])
            }
        }
        let before = try page.decodedCursor(UUID.self)
        let fetched = try await indexer.failures.list(tenant: tenant, state: state, before: before, limit: page.limit + 1)
        return Page(fetched: fetched, limit: page.limit) { $0.id }
    }

    func failure(_ context: ServiceRequestContext) async throws -> FailureStore.Failure {
        let tenant = try Self.requireAdmin(context).tenantID
        guard let loaded = try await indexer.failures.load(try Self.id(context, "failure"), tenant: tenant) else {
            throw Problem.notFound("No such failure.")
        }
        return loaded.failure
    }

    func replay(_ context: ServiceRequestContext) async throws -> FailureStore.Failure {
        let tenant = try Self.requireAdmin(context).tenantID
        do {
            guard let failure = try await indexer.replay(try Self.id(context, "failure"), tenant: tenant) else {
                throw Problem.notFound("No such failure.")
            }
            return failure
        } catch let failed as Indexer.ReplayFailed {
            throw Problem(status: .unprocessableContent, title: "Replay failed", detail: "The event still cannot be indexed: \(failed.reason)")
        }
    }

    struct ReplayAllRequest: Decodable {
        var since: Date?
    }

    struct ReplayAllResult: ResponseEncodable {
        var replayed: Int
        var stillFailing: [UUID]
    }

    /// Replays the tenant's unresolved failures first seen since `since` (default: all), up to 1,000.
    func replayAll(_ request: Request, _ context: ServiceRequestContext) async throws -> ReplayAllResult {
        let tenant = try Self.requireAdmin(context).tenantID
        let input = try await request.decodeJSON(ReplayAllRequest.self, context: context)
        var result = ReplayAllResult(replayed: 0, stillFailing: [])
        for id in try await indexer.failures.unresolved(tenant: tenant, since: input.since ?? .distantPast, limit: 1000) {
            do {
                _ = try await indexer.replay(id, tenant: tenant)
                result.replayed += 1
            } catch is Indexer.ReplayFailed {
                result.stillFailing.append(id)
            }
        }
        return result
    }
}

extension ReindexStore.Run: ResponseEncodable {}
extension FailureStore.Failure: ResponseEncodable {}
