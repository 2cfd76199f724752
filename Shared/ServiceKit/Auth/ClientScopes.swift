import HTTPTypes

/// What an API client's token (client credentials, no user) must hold to use a group of
/// routes: the read scope for GET and HEAD, the write scope for the rest (the write scope
/// reads too). A client that holds it acts as a `viewer` (read) or `member` (write) of its
/// tenant for the roles the handlers check; it never administers. User tokens keep their
/// roles and need no scope.
public struct ClientScopes: Sendable, Equatable {
    public var read: String?
    public var write: String?

    public init(read: String?, write: String?) {
        self.read = read
        self.write = write
    }

    /// Routes for people only (the admin console, a user's inbox or sessions).
    public static let usersOnly = ClientScopes(read: nil, write: nil)

    /// The scope the method needs, nil when clients may not call it at all.
    public func needed(for method: HTTPRequest.Method) -> String? {
        method == .get || method == .head ? read ?? write : write
    }

    /// The client's identity as the handlers should see it, or a 403 naming the scope.
    public func admit(_ client: Identity, method: HTTPRequest.Method) throws -> Identity {
        guard let scope = needed(for: method) else {
            throw Problem.forbidden("API clients cannot use this part of the API; it is for signed-in users.")
        }
        let writes = write.map(client.scopes.contains) ?? false
        guard client.scopes.contains(scope) || (scope == read && writes) else {
            throw Problem.forbidden("This API client's token lacks the scope \(scope).")
        }
        var admitted = client
        admitted.roles = writes ? ["member"] : ["viewer"]
        return admitted
    }
}

extension Identity {
    /// A token from client credentials: its subject is the client's id, not a user's.
    public var isAPIClient: Bool { userID == nil }
}
