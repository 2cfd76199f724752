import Foundation
import Hummingbird
import ServiceKit

/// `/v1/tasks`: parse and validate, call the store, map its errors to problems.
struct TaskRoutes: RouteGroup {
    let store: TaskStore

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let tasks = router.group("v1/tasks").add(middleware: AuthenticationMiddleware(verifier: verifier, clients: ClientAccess.tasks))
        tasks.post { request, context in try await create(request, context) }
        tasks.post("bulk") { request, context in try await bulk(request, context) }
        tasks.get("export") { request, context in try await export(request, context) }
        tasks.post("import") { request, context in try await importTasks(request, context) }
        tasks.get("stats") { request, context in
            let identity = try context.requireIdentity()
            var v = Validator()
            let zone = TaskRules.timeZone(request.queryItems["timeZone"], &v) ?? "UTC"
            try v.finish()
            return try await store.stats(
                tenant: identity.tenantID, user: identity.userID, timeZone: TimeZone(identifier: zone) ?? .gmt)
        }
        tasks.get("imports/:id") { _, context in try await importStatus(context) }
        tasks.get { request, context in try await list(request, context) }
        tasks.get(":id") { _, context in try await get(context) }
        tasks.patch(":id") { request, context in try await update(request, context) }
        tasks.delete(":id") { request, context in try await delete(request, context) }
        tasks.post(":id/restore") { _, context in try await restore(context) }
        tasks.post(":id/complete") { request, context in try await complete(request, context) }
        tasks.post(":id/reopen") { _, context in try await reopen(context) }
        tasks.get(":id/dependencies") { _, context in try await dependencies(context) }
        tasks.post(":id/dependencies") { request, context in try await addDependency(request, context) }
        tasks.delete(":id/dependencies") { request, context in try await removeDependency(request, context) }
        tasks.delete(":id/dependencies/:dependsOn") { _, context in try await removeDependency(nil, context) }
        tasks.get(":id/activity") { request, context in try await activity(request, context) }
    }

    func create(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<TaskItem> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let input = try await request.decodeJSON(NewTaskInput.self, context: context)
        var v = Validator()
        let title = TaskRules.title(input.title, &v)
        let description = TaskRules.description(input.description, &v)
        let tags = TaskRules.tags(input.tags ?? [], &v)
        let estimate = TaskRules.estimate(input.estimateMinutes, &v)
        let remindAt = TaskRules.remindAt(input.remindAt, &v)
        let priority = TaskRules.priority(input.priority, &v) ?? 0
        let timeZone = TaskRules.timeZone(input.timeZone, &v) ?? "UTC"
        let recurrence = TaskRules.recurrence(input.recurrence, dueAt: input.dueAt, &v)
        try v.finish()
        let now = Date()
        let draft = TaskItem(
            id: .v7(), projectId: input.projectId, parentId: input.parentId, title: title, description: description,
            status: input.status ?? .todo, priority: priority, tags: tags, dueAt: input.dueAt, timeZone: timeZone, position: input.position ?? 0,
            assigneeId: input.assigneeId, estimateMinutes: estimate, remindAt: remindAt, recurrence: recurrence, createdBy: identity.userID,
            version: 1, createdAt: now,
            updatedAt: now, completedAt: nil)
        let task = try await mapErrors { try await store.create(draft, position: input.position, tenant: identity.tenantID, actor: identity.subject) }
        return EditedResponse(
            status: .created, headers: [.eTag: task.etag, .location: "/v1/tasks/\(task.id.uuidString.lowercased())"], response: task)
    }

    func get(_ context: ServiceRequestContext) async throws -> EditedResponse<TaskItem> {
        let identity = try context.requireIdentity()
        let task = try await mapErrors { try await store.get(try taskID(context), tenant: identity.tenantID) }
        return EditedResponse(headers: [.eTag: task.etag], response: task)
    }

    func update(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<TaskItem> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let id = try taskID(context)
        let expected = try request.ifMatchVersion()
        let patch = try await request.decodeJSON(TaskPatch.self, context: context)
        var v = Validator()
        if case .null = patch.title { v.add("title", "must not be null") }
        if case .null = patch.status { v.add("status", "must not be null") }
        if case .null = patch.priority { v.add("priority", "must not be null") }
        if case .null = patch.timeZone { v.add("timeZone", "must not be null") }
        if case .null = patch.position { v.add("position", "must not be null") }
        if case .value(let value) = patch.priority { _ = TaskRules.priority(value, &v) }
        if case .value(let value) = patch.timeZone { _ = TaskRules.timeZone(value, &v) }
        var title: String?
        if case .value(let value) = patch.title { title = TaskRules.title(value, &v) }
        if case .value(let value) = patch.description { _ = TaskRules.description(value, &v) }
        var tags: [String]?
        if case .value(let value) = patch.tags { tags = TaskRules.tags(value, &v) }
        if case .value(let value) = patch.estimateMinutes { _ = TaskRules.estimate(value, &v) }
        if case .value(let value) = patch.remindAt { _ = TaskRules.remindAt(value, &v) }
        if case .value(let value) = patch.recurrence {
            do { _ = try Recurrence(value) } catch { v.add("recurrence", "\(error)") }
        }
        try v.finish()
        let newTitle = title
        let newTags = tags
        let task = try await mapErrors {
            try await store.update(id, tenant: identity.tenantID, actor: identity.subject, expectedVersion: expected) { current in
                var next = current
                if let newTitle { next.title = newTitle }
                if let newTags { next.tags = newTags } else if case .null = patch.tags { next.tags = [] }
                apply(patch.description, to: &next.description)
                apply(patch.projectId, to: &next.projectId)
                apply(patch.parentId, to: &next.parentId)
                apply(patch.dueAt, to: &next.dueAt)
                apply(patch.assigneeId, to: &next.assigneeId)
                apply(patch.estimateMinutes, to: &next.estimateMinutes)
                apply(patch.remindAt, to: &next.remindAt)
                apply(patch.recurrence, to: &next.recurrence)
                if next.recurrence != nil, next.dueAt == nil {
                    throw Problem.validation([.init(field: "recurrence", message: "needs a due date to recur from")])
                }
                if case .value(let status) = patch.status { next.status = status }
                if case .value(let priority) = patch.priority { next.priority = priority }
                if case .value(let timeZone) = patch.timeZone { next.timeZone = timeZone }
                if case .value(let position) = patch.position { next.position = position }
                return next
            }
        }
        return EditedResponse(headers: [.eTag: task.etag], response: task)
    }

    func delete(_ request: Request, _ context: ServiceRequestContext) async throws -> HTTPResponse.Status {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let id = try taskID(context)
        let expected = try request.ifMatchVersion()
        try await mapErrors { try await store.delete(id, tenant: identity.tenantID, actor: identity.subject, expectedVersion: expected) }
        return .noContent
    }

    /// `POST /v1/tasks/{id}/restore`: out of the bin, within 30 days of the delete.
    func restore(_ context: ServiceRequestContext) async throws -> EditedResponse<TaskItem> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let task = try await mapErrors { try await store.restore(try taskID(context), tenant: identity.tenantID, actor: identity.subject) }
        return EditedResponse(headers: [.eTag: task.etag], response: task)
    }

    /// `POST /v1/tasks/{id}/complete[?cascade=true]`.
    func complete(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<TaskItem> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let cascadeParameter = request.queryItems["cascade"]
        guard cascadeParameter == nil || cascadeParameter == "true" || cascadeParameter == "false" else {
            throw Problem.validation([.init(field: "cascade", message: "must be true or false")])
        }
        let id = try taskID(context)
        let task = try await mapErrors {
            try await store.complete(id, tenant: identity.tenantID, actor: identity.subject, cascade: cascadeParameter == "true")
        }
        return EditedResponse(headers: [.eTag: task.etag], response: task)
    }

    func reopen(_ context: ServiceRequestContext) async throws -> EditedResponse<TaskItem> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let id = try taskID(context)
        let task = try await mapErrors { try await store.reopen(id, tenant: identity.tenantID, actor: identity.subject) }
        return EditedResponse(headers: [.eTag: task.etag], response: task)
    }

    struct BulkInput: Decodable {
        var ids: [UUID]?
        var filter: [String: String]?
        var action: String
        var value: AnyJSON?
    }

    /// `POST /v1/tasks/bulk`: `ids` (up to 1,000) or a list `filter`, one action, all or nothing.
    func bulk(_ request: Request, _ context: ServiceRequestContext) async throws -> BulkOutcome {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let input = try await request.decodeJSON(BulkInput.self, context: context)
        var v = Validator()
        v.check((input.ids == nil) != (input.filter == nil), "ids", "give either ids or filter")
        if let ids = input.ids { v.check((1...TaskStore.maxBulk).contains(ids.count), "ids", "must hold 1 to \(TaskStore.maxBulk) ids") }
        if let filter = input.filter {
            let unknown = Set(filter.keys).subtracting(TaskQuery.parameters)
            v.check(unknown.isEmpty, "filter", "unknown parameters: \(unknown.sorted().joined(separator: ", "))")
        }
        let action = Self.bulkAction(input.action, input.value, &v)
        try v.finish()
        guard let action else { throw Problem.validation([.init(field: "action", message: "is not valid")]) }
        var ids = input.ids ?? []
        if let filter = input.filter {
            ids = try await store.matchingIDs(tenant: identity.tenantID, query: try TaskQuery(filter))
            if ids.count > TaskStore.maxBulk {
                throw Problem.validation([.init(field: "filter", message: "matches more than \(TaskStore.maxBulk) tasks; narrow it")])
            }
            if ids.isEmpty { return BulkOutcome(action: action.name, matched: 0, changed: [], unchanged: []) }
        }
        let targets = Array(Set(ids))
        return try await mapErrors { try await store.bulk(targets, action: action, tenant: identity.tenantID, actor: identity.subject) }
    }

    static func bulkAction(_ name: String, _ value: AnyJSON?, _ v: inout Validator) -> BulkAction? {
        switch name {
        case "complete": return .complete
        case "reopen": return .reopen
        case "delete": return .delete
        case "move":
            switch value {
            case .null, nil: return .move(projectId: nil)
            case .string(let raw):
                guard let id = UUID(uuidString: raw) else { break }
                return .move(projectId: id)
            default: break
            }
            v.add("value", "must be a project id, or null for no project")
        case "setPriority":
            if case .number(let number) = value, let priority = Int(exactly: number), (0...4).contains(priority) { return .setPriority(priority) }
            v.add("value", "must be a priority from 0 to 4")
        case "addTag", "removeTag":
            if case .string(let raw) = value {
                let tags = TaskRules.tags([raw], &v)
                if let tag = tags.first { return name == "addTag" ? .addTag(tag) : .removeTag(tag) }
            } else {
                v.add("value", "must be a tag")
            }
        default:
            v.add("action", "must be one of \(BulkAction.names.joined(separator: ", "))")
        }
        return nil
    }

    struct DependencyInput: Decodable {
        var dependsOn: UUID
    }

    func dependencies(_ context: ServiceRequestContext) async throws -> TaskStore.Dependencies {
        let identity = try context.requireIdentity()
        let id = try taskID(context)
        return try await mapErrors { try await store.dependencies(id, tenant: identity.tenantID) }
    }

    func addDependency(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<TaskStore.Dependencies> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let id = try taskID(context)
        let input = try await request.decodeJSON(DependencyInput.self, context: context)
        let added = try await mapErrors {
            try await store.addDependency(id, dependsOn: input.dependsOn, tenant: identity.tenantID, actor: identity.subject)
        }
        let current = try await mapErrors { try await store.dependencies(id, tenant: identity.tenantID) }
        return EditedResponse(status: added ? .created : .ok, response: current)
    }

    /// `DELETE /v1/tasks/{id}/dependencies` with `{dependsOn}`, or `…/dependencies/{dependsOn}`.
    func removeDependency(_ request: Request?, _ context: ServiceRequestContext) async throws -> HTTPResponse.Status {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let id = try taskID(context)
        let other: UUID
        if let request {
            other = try await request.decodeJSON(DependencyInput.self, context: context).dependsOn
        } else {
            guard let raw = context.parameters.get("dependsOn"), let parsed = UUID(uuidString: raw) else {
                throw Problem.notFound("No such dependency.")
            }
            other = parsed
        }
        try await mapErrors { try await store.removeDependency(id, dependsOn: other, tenant: identity.tenantID, actor: identity.subject) }
        return .noContent
    }

    struct ActivityPosition: Codable {
        var id: Int64
    }

    /// `GET /v1/tasks/{id}/activity`: oldest first, cursor pages.
    func activity(_ request: Request, _ context: ServiceRequestContext) async throws -> Page<ActivityLog.Entry> {
        let identity = try context.requireIdentity()
        let id = try taskID(context)
        let page = try PageRequest(request.queryItems)
        let after = try page.decodedCursor(ActivityPosition.self)?.id
        let entries = try await mapErrors { try await store.activity(id, tenant: identity.tenantID, after: after, limit: page.limit + 1) }
        return Page(fetched: entries, limit: page.limit) { ActivityPosition(id: $0.id) }
    }

    func list(_ request: Request, _ context: ServiceRequestContext) async throws -> Page<TaskItem> {
        let identity = try context.requireIdentity()
        let parameters = request.queryItems
        let page = try PageRequest(parameters)
        var query = try TaskQuery(parameters)
        if parameters["sort"] == nil, let project = query.projectId,
            let sort = try await store.defaultSort(project: project, tenant: identity.tenantID)
        {
            query.sort = sort
        }
        let cursor = try page.decodedCursor(TaskStore.ListPosition.self)
        if let cursor, cursor.sort != query.sort || !query.sort.accepts(cursor.key) {
            throw Problem.badRequest("The cursor belongs to another sort order or is not valid; start again without it.")
        }
        let rows = try await store.list(tenant: identity.tenantID, query: query, after: cursor, limit: page.limit + 1)
        let shown = rows.prefix(page.limit)
        return Page(items: shown.map(\.0), nextCursor: rows.count > page.limit ? shown.last.map { Cursor.encode($0.1) } : nil)
    }

    func apply<V>(_ field: PatchField<V>, to target: inout V?) {
        switch field {
        case .absent: break
        case .null: target = nil
        case .value(let value): target = value
        }
    }

    /// A path id that is not a UUID names no task: 404, like an unknown one.
    func taskID(_ context: ServiceRequestContext) throws -> UUID {
        guard let raw = context.parameters.get("id"), let id = UUID(uuidString: raw) else { throw Problem.notFound("No such task.") }
        return id
    }

    func mapErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as TaskStoreError {
            throw error.problem
        }
    }
}

extension TaskStoreError {
    /// The problem a client sees for this error, the same from every route.
    var problem: Problem {
        switch self {
        case .notFound:
            return Problem.notFound("No such task.")
        case .versionMismatch(let current):
            return Problem.preconditionFailed("The task changed since you read it; it is now at version \(current).")
        case .unknownReference(let field):
            return Problem.validation([.init(field: field, message: "names nothing in this tenant")])
        case .parentCycle:
            return Problem.validation([.init(field: "parentId", message: "would make the task its own ancestor")])
        case .notInBin:
            return Problem.conflict("The task is not in the bin.")
        case .parentInBin:
            return Problem.conflict("The parent task is in the bin; restore it first.")
        case .bulkRefused(let failures):
            return Problem(
                status: .conflict, title: "Bulk change refused",
                detail: "Nothing was changed: " + failures.map { "\($0.id.uuidString.lowercased()) \($0.reason)" }.joined(separator: "; ") + ".",
                errors: failures.map { .init(field: $0.id.uuidString.lowercased(), message: $0.reason) })
        case .archivedProject:
            return Problem.validation([.init(field: "projectId", message: "names an archived project; unarchive it first")])
        case .notAMember:
            return Problem.validation([.init(field: "assigneeId", message: "is not a member of this tenant")])
        case .tooDeep:
            return Problem.validation([.init(field: "parentId", message: "would nest tasks deeper than \(TaskRules.maxDepth) levels")])
        case .openSubtasks(let open):
            return Problem.conflict("Open subtasks: \(open.listed). Complete them first, or complete with cascade=true.")
        case .openBlockers(let blockers):
            return Problem.conflict("Open tasks this one depends on: \(blockers.listed).")
        case .dependencyCycle(let cycle):
            return Problem.validation([
                .init(field: "dependsOn", message: "would close the cycle \(cycle.map { $0.uuidString.lowercased() }.joined(separator: " → "))")
            ])
        }
    }
}

extension TaskItem: ResponseEncodable {}
extension BulkOutcome: ResponseEncodable {}
extension TaskStats: ResponseEncodable {}
extension TaskStore.Dependencies: ResponseEncodable {}
extension ActivityLog.Entry: ResponseEncodable {}
