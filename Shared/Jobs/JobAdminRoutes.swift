import Foundation
import Hummingbird
import ServiceKit

/// `/v1/admin/jobs` for a service that runs jobs. Tenant owners and admins see and act on
/// their tenant's jobs (list, inspect, retry a discarded one, discard a pending one);
/// queues are shared by every tenant, so pausing, resuming and draining them is for
/// platform operators (`platform:admin`).
public struct JobAdminRoutes: RouteGroup {
    let store: JobAdminStore
    let path: String

    public init(store: JobAdminStore, path: String = "v1/admin/jobs") {
        self.store = store
        self.path = path
    }

    public func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let jobs = router.group(RouterPath(path)).add(middleware: AuthenticationMiddleware(verifier: verifier))
        jobs.get { request, context in try await list(request, context) }
        jobs.get("queues") { _, context in
            try Self.requireOperator(context)
            return QueueList(items: try await store.queues())
        }
        jobs.post("queues/:name/pause") { _, context in try await setPaused(context, true) }
        jobs.post("queues/:name/resume") { _, context in try await setPaused(context, false) }
        jobs.post("queues/:name/drain") { _, context in try await drain(context) }
        jobs.get("batches/:batch") { _, context in
            let tenant = try Self.requireAdmin(context)
            guard let raw = context.parameters.get("batch"), let id = UUID(uuidString: raw), let batch = try await store.batch(tenant: tenant, id: id)
            else { throw Problem.notFound("No such batch.") }
            return batch
        }
        jobs.get("export.csv") { request, context in try await export(request, context) }
        jobs.post("retry") { request, context -> Updated in
            let tenant = try Self.requireAdmin(context)
            let input = try await request.decodeJSON(BulkInput.self, context: context)
            return Updated(updated: try await store.retryAll(tenant: tenant, try Self.filter(input, states: ["discarded"])))
        }
        jobs.post("discard") { request, context -> Updated in
            let tenant = try Self.requireAdmin(context)
            let input = try await request.decodeJSON(BulkInput.self, context: context)
            let actor = try context.requireIdentity().subject
            return Updated(updated: try await store.discardAll(tenant: tenant, try Self.filter(input, states: JobAdminStore.pending), by: actor))
        }
        jobs.post("priority") { request, context -> Updated in
            let tenant = try Self.requireAdmin(context)
            let input = try await request.decodeJSON(BulkInput.self, context: context)
            guard let priority = input.priority, (0...4).contains(priority) else {
                throw Problem.validation([.init(field: "priority", message: "is required: 0 (first) to 4 (last)")])
            }
            return Updated(
                updated: try await store.reprioritise(tenant: tenant, try Self.filter(input, states: JobAdminStore.pending), priority: priority))
        }
        jobs.get(":id") { _, context in
            let tenant = try Self.requireAdmin(context)
            guard let job = try await store.get(tenant: tenant, id: try Self.jobID(context)) else { throw Problem.notFound("No such job.") }
            return job
        }
        jobs.post(":id/retry") { _, context in
            let tenant = try Self.requireAdmin(context)
            return try Self.answer(try await store.retry(tenant: tenant, id: try Self.jobID(context)), action: "retried")
        }
        jobs.post(":id/discard") { _, context in
            let tenant = try Self.requireAdmin(context)
            let actor = try context.requireIdentity().subject
            return try Self.answer(try await store.discard(tenant: tenant, id: try Self.jobID(context), by: actor), action: "discarded")
        }
    }

    struct QueueList: ResponseEncodable {
        var items: [JobAdminStore.QueueView]
    }

    /// A bulk action's filter; a bulk action without `kind` or `queue` covers all the
    /// tenant's jobs in the states it acts on.
    struct BulkInput: Decodable {
        var kind: String?
        var queue: String?
        var state: String?
        var priority: Int?
    }

    struct Updated: ResponseEncodable {
        var updated: Int
    }

    static func filter(_ input: BulkInput, states: [String]) throws -> JobAdminStore.Filter {
        var v = Validator()
        for (field, value) in [("kind", input.kind), ("queue", input.queue)] where (value?.count ?? 0) > 200 || value?.isEmpty == true {
            v.add(field, "must be 1 to 200 characters")
        }
        if let state = input.state, !states.contains(state) { v.add("state", "must be one of \(states.joined(separator: ", "))") }
        try v.finish()
        return JobAdminStore.Filter(state: input.state, kind: input.kind, queue: input.queue)
    }

    /// The filtered job list as CSV (RFC 4180), streamed a page at a time, newest first.
    func export(_ request: Request, _ context: ServiceRequestContext) async throws -> Response {
        let tenant = try Self.requireAdmin(context)
        let filter = try Self.listFilter(request.queryItems)
        let store = self.store
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: JobCSV.header))
            var before = Int64.max
            while true {
                let page = try await store.slice(tenant: tenant, filter, before: before, limit: 500)
                guard let last = page.last else { break }
                try await writer.write(ByteBuffer(string: page.map(JobCSV.row).joined()))
                before = last.id
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"jobs.csv\"", .cacheControl: "no-store"],
            body: body)
    }

    func list(_ request: Request, _ context: ServiceRequestContext) async throws -> Page<JobAdminStore.JobView> {
        let tenant = try Self.requireAdmin(context)
        let query = request.queryItems
        let filter = try Self.listFilter(query)
        return try await store.list(tenant: tenant, state: filter.state, kind: filter.kind, queue: filter.queue, page: try PageRequest(query))
    }

    /// The `state`, `kind` and `queue` a list or an export is filtered by.
    static func listFilter(_ query: [String: String]) throws -> JobAdminStore.Filter {
        var v = Validator()
        if let state = query["state"], !JobAdminStore.states.contains(state) {
            v.add("state", "must be one of \(JobAdminStore.states.sorted().joined(separator: ", "))")
        }
        for field in ["kind", "queue"] where (query[field]?.count ?? 0) > 200 { v.add(field, "must be at most 200 characters") }
        try v.finish()
        return JobAdminStore.Filter(state: query["state"], kind: query["kind"], queue: query["queue"])
    }

    func setPaused(_ context: ServiceRequestContext, _ paused: Bool) async throws -> JobAdminStore.QueueView {
        try Self.requireOperator(context)
        let name = try Self.queueName(context)
        try await store.setPaused(name, paused)
        return try await store.queue(name)
    }

    /// Pauses the queue and waits (up to 30 s) for its running jobs to finish; the answer
    /// shows how many still run.
    func drain(_ context: ServiceRequestContext) async throws -> JobAdminStore.QueueView {
        try Self.requireOperator(context)
        let name = try Self.queueName(context)
        try await store.setPaused(name, true)
        let deadline = ContinuousClock.now + .seconds(30)
        var view = try await store.queue(name)
        while (view.jobs["running"] ?? 0) > 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(250))
            view = try await store.queue(name)
        }
        return view
    }

    static func requireAdmin(_ context: ServiceRequestContext) throws -> UUID {
        let identity = try context.requireIdentity()
        try identity.requireTenantAdmin()
        return identity.tenantID
    }

    static func requireOperator(_ context: ServiceRequestContext) throws {
        guard try context.requireIdentity().isPlatformOperator else {
            throw Problem.forbidden("Queues are shared by every tenant; only platform operators control them.")
        }
    }

    static func jobID(_ context: ServiceRequestContext) throws -> Int64 {
        guard let raw = context.parameters.get("id"), let id = Int64(raw), id > 0 else { throw Problem.notFound("No such job.") }
        return id
    }

    static func queueName(_ context: ServiceRequestContext) throws -> String {
        guard let name = context.parameters.get("name"), !name.isEmpty, name.count <= 100,
            name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." })
        else {
            throw Problem.validation([.init(field: "name", message: "must be 1-100 letters, digits, '-', '_' or '.'")])
        }
        return name
    }

    static func answer(_ outcome: JobAdminStore.ChangeOutcome, action: String) throws -> JobAdminStore.JobView {
        switch outcome {
        case .changed(let job): return job
        case .notFound: throw Problem.notFound("No such job.")
        case .conflict(let state): throw Problem.conflict("A \(state) job cannot be \(action).")
        }
    }
}

extension JobAdminStore.JobView: ResponseEncodable {}
extension JobAdminStore.QueueView: ResponseEncodable {}
extension JobAdminStore.BatchView: ResponseEncodable {}
