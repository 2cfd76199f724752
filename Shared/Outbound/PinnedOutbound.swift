import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization

/// Webhook and push requests, each sent to the address the destination policy checked
/// in the same call. Resolving the name again in the HTTP client would let a DNS server
/// answer a public address to the check and an internal one to the connection
/// (rebinding). AsyncHTTPClient's DNS override is a client setting, so there is one
/// client per host and pinned address; TLS still verifies the certificate for the host
/// name (the override keeps it as SNI).
public final class PinnedOutbound: Sendable {
    public let policy: DestinationPolicy
    private let connectionsPerHost: Int
    /// Bodies are inflated (gzip, deflate) up to this many bytes; nil leaves them as sent.
    private let decompressionLimit: Int?
    private let clients = Mutex<[String: Entry]>([:])
    /// Clients kept at once; the least recently used is shut down past this.
    public let capacity: Int

    private struct Entry {
        var client: HTTPClient
        var used: ContinuousClock.Instant
    }

    public init(policy: DestinationPolicy, connectionsPerHost: Int, capacity: Int = 128, decompressionLimit: Int? = nil) {
        self.policy = policy
        self.connectionsPerHost = connectionsPerHost
        self.decompressionLimit = decompressionLimit
        self.capacity = capacity
    }

    /// Checks the request's URL, then sends it to the checked address. Throws the policy's
    /// `Refusal` for a URL that may not be reached.
    public func execute(_ request: HTTPClientRequest, timeout: TimeAmount) async throws -> HTTPClientResponse {
        let checked = try await policy.check(request.url)
        return try await client(for: checked).execute(request, timeout: timeout)
    }

    public func client(for checked: DestinationPolicy.Checked) -> HTTPClient {
        let key = checked.isLiteral ? checked.address : "\(checked.host)\u{0}\(checked.address)"
        let (client, evicted) = clients.withLock { clients -> (HTTPClient, HTTPClient?) in
            if var entry = clients[key] {
                entry.used = .now
                clients[key] = entry
                return (entry.client, nil)
            }
            var evicted: HTTPClient?
            if clients.count >= capacity, let oldest = clients.min(by: { $0.value.used < $1.value.used }) {
                evicted = oldest.value.client
                clients[oldest.key] = nil
            }
            let made = Self.makeClient(
                connectionsPerHost: connectionsPerHost, pin: checked.isLiteral ? [:] : [checked.host: checked.address],
                decompressionLimit: decompressionLimit)
            clients[key] = Entry(client: made, used: .now)
            return (made, evicted)
        }
        if let evicted { Task { try? await evicted.shutdown() } }
        return client
    }

    /// Webhooks are not redirected (a redirect could lead past the address checks) and
    /// connections are not kept long. One host may have as many deliveries in flight as
    /// the webhooks queue runs (the client's default of 8 per host held a busy endpoint
    /// to 8 at a time, whatever the queue allowed).
    public static func makeClient(connectionsPerHost: Int, pin: [String: String], decompressionLimit: Int? = nil) -> HTTPClient {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout.connect = .seconds(5)
        configuration.connectionPool.idleTimeout = .seconds(5)
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = connectionsPerHost
        configuration.decompression = decompressionLimit.map { .enabled(limit: .size($0)) } ?? .disabled
        configuration.dnsOverride = pin
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Let go (its service stopped) without `shutdown()`, it takes its clients down with it:
    /// an HTTPClient released while running leaks its connections, and traps in a debug build
    /// (a whole-suite test run crashed on it when an experience replica stopped).
    deinit {
        for client in clients.withLock({ $0.values.map(\.client) }) { client.shutdown { _ in } }
    }

    public func shutdown() async {
        let all = clients.withLock { clients in
            defer { clients.removeAll() }
            return clients.values.map(\.client)
        }
        for client in all { try? await client.shutdown() }
    }
}
