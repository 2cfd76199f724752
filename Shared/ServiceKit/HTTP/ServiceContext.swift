import Contracts
import Foundation
import Hummingbird
import Logging
import NIOCore

/// The caller, as proven by a verified access token.
public struct Identity: Sendable, Equatable {
    public var subject: String
    public var tenantID: UUID
    public var roles: [String]
    public var scopes: [String]
    public var tokenID: String?

    public init(subject: String, tenantID: UUID, roles: [String], scopes: [String], tokenID: String? = nil) {
        self.subject = subject
        self.tenantID = tenantID
        self.roles = roles
        self.scopes = scopes
        self.tokenID = tokenID
    }

    /// The user id when the subject is a user (API clients have non-UUID subjects).
    public var userID: UUID? { UUID(uuidString: subject) }
}

/// What middleware and handlers of every service need from the request context.
public protocol ServiceContext: RequestContext {
    var identity: Identity? { get set }
    var requestID: String { get set }
}

extension ServiceContext {
    /// The verified caller; a route behind `AuthenticationMiddleware` always has one.
    public func requireIdentity() throws -> Identity {
        guard let identity else { throw Problem.unauthorized("A valid access token is required.") }
        return identity
    }
}

/// The request context of every service: typed identity and request id, JSON coders
/// that write RFC 3339 timestamps.
public struct ServiceRequestContext: ServiceContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: Identity?
    public var requestID: String
    /// The peer of the TCP connection (the client, or the gateway for a service).
    public let remoteAddress: SocketAddress?
    /// The client behind the gateway, where a `ClientAddressMiddleware` decided it.
    public var clientIP: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.identity = nil
        self.requestID = ""
        self.remoteAddress = source.channel.remoteAddress
    }

    public var requestDecoder: JSONDecoder { PlatformJSON.decoder }
    public var responseEncoder: JSONEncoder { PlatformJSON.encoder }
}
