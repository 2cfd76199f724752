import ServiceKit

/// What an API client's token must hold for the experience routes (user tokens go by their
/// roles): `experience:read` to read, `experience:write` to write the catalogue and events.
enum ClientAccess {
    static let experience = ClientScopes(read: "experience:read", write: "experience:write")
}
