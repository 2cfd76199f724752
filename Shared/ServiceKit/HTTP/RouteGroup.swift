import Hummingbird

/// A group of a service's routes, added to the service's router with its token verifier.
public protocol RouteGroup: Sendable {
    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier)
}
