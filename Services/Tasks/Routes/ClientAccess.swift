import ServiceKit

/// What an API client's token must hold for each group of routes here (user tokens go by
/// their roles). The tests call one route of each group as the table says.
enum ClientAccess {
    static let tasks = ClientScopes(read: "tasks:read", write: "tasks:write")

    static let table: [(route: String, scopes: ClientScopes)] = [
        ("GET /v1/tasks", tasks), ("GET /v1/projects", tasks), ("GET /v1/task-templates", tasks),
        // A user's own saved filters, and the tenant's job console.
        ("GET /v1/task-filters", .usersOnly), ("GET /v1/admin/jobs", .usersOnly),
    ]
}
