import ServiceKit

/// What an API client's token must hold for each group of routes here (user tokens go by
/// their roles). The tests call one route of each group as the table says.
enum ClientAccess {
    static let experience = ClientScopes(read: "experience:read", write: "experience:write")

    static let table: [(route: String, scopes: ClientScopes)] = [
        ("GET /v1/experience/items", experience), ("POST /v1/experience/events", experience),
        ("GET /v1/experience/home", experience),
    ]
}
