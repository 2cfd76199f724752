import Foundation
import Hummingbird
import ServiceKit

/// `/v1/task-templates`: save a task tree (given, or copied from a task) and instantiate it.
struct TemplateRoutes: RouteGroup {
    let store: TemplateStore

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let templates = router.group("v1/task-templates").add(middleware: AuthenticationMiddleware(verifier: verifier, clients: ClientAccess.tasks))
        templates.post { request, context in try await create(request, context) }
        templates.get { request, context in
            let identity = try context.requireIdentity()
            let page = try PageRequest(request.queryItems)
            let found = try await store.list(tenant: identity.tenantID, before: try page.decodedCursor(UUID.self), limit: page.limit + 1)
            return Page(fetched: found, limit: page.limit) { $0.id }
        }
        templates.get(":id") { _, context in
            let identity = try context.requireIdentity()
            return try await mapErrors { try await store.get(try templateID(context), tenant: identity.tenantID) }
        }
        templates.delete(":id") { _, context -> HTTPResponse.Status in
            let identity = try context.requireIdentity()
            try identity.requireWriter()
            try await mapErrors { try await store.delete(try templateID(context), tenant: identity.tenantID) }
            return .noContent
        }
        templates.post(":id/instantiate") { request, context in try await instantiate(request, context) }
    }

    struct Input: Decodable {
        var name: String
        var description: String?
        var tasks: [TemplateTask]?
        /// Copy this task and its subtasks instead of giving `tasks`.
        var fromTaskId: UUID?
    }

    func create(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<TaskTemplate> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let input = try await request.decodeJSON(Input.self, context: context)
        var v = Validator()
        let name = v.text(input.name, "name", max: 200) ?? ""
        v.check((input.tasks == nil) != (input.fromTaskId == nil), "tasks", "give either tasks or fromTaskId")
        try v.finish()
        var tree = input.tasks ?? []
        if let source = input.fromTaskId {
            do {
                tree = try await store.snapshot(source, tenant: identity.tenantID)
            } catch TaskStoreError.notFound {
                throw Problem.validation([.init(field: "fromTaskId", message: "names no task in this tenant")])
            }
        }
        _ = TemplateRules.check(tree, &v)
        try v.finish()
        let template = try await mapErrors {
            try await store.create(name: name, description: input.description, tasks: tree, tenant: identity.tenantID, actor: identity.subject)
        }
        return EditedResponse(status: .created, headers: [.location: "/v1/task-templates/\(template.id.uuidString.lowercased())"], response: template)
    }

    struct Instantiation: Decodable {
        var variables: [String: String]?
        /// Due offsets count from here (default: now).
        var start: Date?
        var timeZone: String?
        var projectId: UUID?
        var parentId: UUID?
    }

    struct Created: ResponseEncodable {
        var items: [TaskItem]
    }

    func instantiate(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<Created> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let id = try templateID(context)
        let input = try await request.decodeJSON(Instantiation.self, context: context)
        var v = Validator()
        let zone = TaskRules.timeZone(input.timeZone, &v) ?? "UTC"
        for (name, value) in input.variables ?? [:] where value.count > 500 { v.add("variables.\(name)", "must be at most 500 characters") }
        try v.finish()
        let template = try await mapErrors { try await store.get(id, tenant: identity.tenantID) }
        let roots = try await mapErrors {
            try await store.instantiate(
                template, values: input.variables ?? [:], start: input.start ?? Date(), zone: TimeZone(identifier: zone) ?? .gmt,
                projectId: input.projectId, parentId: input.parentId, tenant: identity.tenantID, actor: identity.subject)
        }
        return EditedResponse(status: .created, response: Created(items: roots))
    }

    func templateID(_ context: ServiceRequestContext) throws -> UUID {
        guard let raw = context.parameters.get("id"), let id = UUID(uuidString: raw) else { throw Problem.notFound("No such template.") }
        return id
    }

    func mapErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as TemplateStoreError {
            switch error {
            case .notFound: throw Problem.notFound("No such template.")
            case .nameTaken: throw Problem.conflict("A template with this name exists already.")
            case .missingVariables(let names):
                throw Problem.validation(names.map { .init(field: "variables.\($0)", message: "is used by the template and has no value") })
            case .filledInvalid(let errors): throw Problem.validation(errors)
            }
        } catch let error as TaskStoreError {
            throw error.problem
        }
    }
}

extension TaskTemplate: ResponseEncodable {}
