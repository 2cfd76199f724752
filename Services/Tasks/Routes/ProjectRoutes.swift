import Foundation
import Hummingbird
import ServiceKit

/// `/v1/projects`: parse and validate, call the store, map its errors to problems.
struct ProjectRoutes: RouteGroup {
    let store: ProjectStore

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let projects = router.group("v1/projects").add(middleware: AuthenticationMiddleware(verifier: verifier, clients: ClientAccess.tasks))
        projects.post { request, context in try await create(request, context) }
        projects.get { request, context in try await list(request, context) }
        projects.get(":id") { _, context in
            let identity = try context.requireIdentity()
            let project = try await mapErrors { try await store.get(try projectID(context), tenant: identity.tenantID) }
            return EditedResponse(headers: [.eTag: project.etag], response: project)
        }
        projects.patch(":id") { request, context in try await update(request, context) }
        projects.delete(":id") { request, context -> HTTPResponse.Status in
            let identity = try context.requireIdentity()
            try identity.requireWriter()
            let id = try projectID(context)
            let expected = try request.ifMatchVersion()
            try await mapErrors { try await store.delete(id, tenant: identity.tenantID, expectedVersion: expected) }
            return .noContent
        }
        projects.post(":id/archive") { _, context in try await setArchived(context, true) }
        projects.post(":id/unarchive") { _, context in try await setArchived(context, false) }
    }

    func create(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<Project> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let input = try await request.decodeJSON(NewProjectInput.self, context: context)
        var v = Validator()
        let name = ProjectRules.name(input.name, &v)
        let description = ProjectRules.description(input.description, &v)
        try v.finish()
        let project = try await store.create(
            name: name, description: description, defaultSort: input.defaultSort ?? .position, tenant: identity.tenantID)
        return EditedResponse(
            status: .created, headers: [.eTag: project.etag, .location: "/v1/projects/\(project.id.uuidString.lowercased())"], response: project)
    }

    func list(_ request: Request, _ context: ServiceRequestContext) async throws -> Page<Project> {
        let identity = try context.requireIdentity()
        let query = request.queryItems
        let page = try PageRequest(query)
        var v = Validator()
        let archived = query["archived"]
        v.check(archived == nil || archived == "true" || archived == "false", "archived", "must be true or false")
        try v.finish()
        let projects = try await store.list(
            tenant: identity.tenantID, archived: archived == "true", before: try page.decodedCursor(UUID.self), limit: page.limit + 1)
        return Page(fetched: projects, limit: page.limit) { $0.id }
    }

    func update(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<Project> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let id = try projectID(context)
        let expected = try request.ifMatchVersion()
        let patch = try await request.decodeJSON(ProjectPatch.self, context: context)
        var v = Validator()
        var name: String?
        if case .value(let value) = patch.name { name = ProjectRules.name(value, &v) }
        if case .null = patch.name { v.add("name", "must not be null") }
        if case .null = patch.defaultSort { v.add("defaultSort", "must not be null") }
        if case .value(let value) = patch.description { _ = ProjectRules.description(value, &v) }
        try v.finish()
        let newName = name
        let project = try await mapErrors {
            try await store.update(id, tenant: identity.tenantID, expectedVersion: expected) { current in
                var next = current
                if let newName { next.name = newName }
                switch patch.description {
                case .absent: break
                case .null: next.description = nil
                case .value(let value): next.description = value
                }
                if case .value(let sort) = patch.defaultSort { next.defaultSort = sort }
                return next
            }
        }
        return EditedResponse(headers: [.eTag: project.etag], response: project)
    }

    func setArchived(_ context: ServiceRequestContext, _ archived: Bool) async throws -> EditedResponse<Project> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let id = try projectID(context)
        let project = try await mapErrors { try await store.update(id, tenant: identity.tenantID, expectedVersion: nil, archive: archived) }
        return EditedResponse(headers: [.eTag: project.etag], response: project)
    }

    func projectID(_ context: ServiceRequestContext) throws -> UUID {
        guard let raw = context.parameters.get("id"), let id = UUID(uuidString: raw) else { throw Problem.notFound("No such project.") }
        return id
    }

    func mapErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ProjectStoreError {
            switch error {
            case .notFound: throw Problem.notFound("No such project.")
            case .versionMismatch(let current):
                throw Problem.preconditionFailed("The project changed since you read it; it is now at version \(current).")
            case .hasTasks(let count): throw Problem.conflict("The project still has \(count) tasks; move them or archive the project instead.")
            }
        }
    }
}

extension Project: ResponseEncodable {}
