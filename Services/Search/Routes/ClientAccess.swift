import ServiceKit

/// What an API client's token must hold for each group of routes here (user tokens go by
/// their roles). The tests call one route of each group as the table says.
enum ClientAccess {
    static let search = ClientScopes(read: "search:read", write: nil)

    static let table: [(route: String, scopes: ClientScopes)] = [
        ("GET /v1/search", search),
        // Clicks are a user's; the rest is the tenant's admin console.
        ("POST /v1/search/clicks", .usersOnly), ("GET /v1/admin/search/analytics", .usersOnly), ("GET /v1/admin/search/health", .usersOnly),
        ("GET /v1/admin/search/jobs", .usersOnly),
    ]
}
