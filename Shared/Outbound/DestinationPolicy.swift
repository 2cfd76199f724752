import Foundation
import NIOCore
import NIOPosix

/// Where webhooks may go. URLs that resolve to private, loopback, link-local (cloud
/// metadata included) or otherwise internal addresses are refused unless configured, so a
/// tenant cannot make the platform call its own network (SSRF). Checked when an endpoint
/// is registered and again before every attempt (DNS can change in between), and every
/// attempt connects to the address that was checked (`PinnedOutbound`).
public struct DestinationPolicy: Sendable {
    public var requireHTTPS = true
    public var allowLoopback = false
    public var allowPrivate = false
    public init(requireHTTPS: Bool = true, allowLoopback: Bool = false, allowPrivate: Bool = false) {
        self.requireHTTPS = requireHTTPS
        self.allowLoopback = allowLoopback
        self.allowPrivate = allowPrivate
    }

    /// Host name to addresses; the system's resolver outside tests.
    public var resolve: @Sendable (_ host: String, _ port: Int) async throws -> [SocketAddress] = { host, port in
        try await NIOThreadPool.singleton.runIfActive { try DestinationPolicy.systemResolve(host, port: port) }
    }

    /// A URL that passed the checks and the address it was checked at: the request must go
    /// to that address, not to whatever DNS answers a moment later (rebinding).
    public struct Checked: Sendable, Equatable {
        public var url: URL
        public var host: String
        public var address: String
        /// True when the URL names the address itself (no name to pin).
        public var isLiteral: Bool
    }

    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case invalidURL
        case insecureScheme
        case unresolvable(String)
        case forbiddenAddress(String)

        public var description: String {
            switch self {
            case .invalidURL: "must be an absolute http(s) URL with a host"
            case .insecureScheme: "must use https"
            case .unresolvable(let host): "the host \(host) does not resolve"
            case .forbiddenAddress(let address): "resolves to \(address), an internal address webhooks may not reach"
            }
        }
    }

    /// Syntax only: scheme, host, no credentials.
    public func checkSyntax(_ raw: String) throws(Refusal) -> URL {
        guard raw.count <= 2000, let url = URL(string: raw), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty,
            scheme == "https" || scheme == "http", url.user == nil, url.password == nil
        else { throw .invalidURL }
        if requireHTTPS, scheme != "https" { throw .insecureScheme }
        return url
    }

    /// Syntax, then every address the host resolves to; answers the address to connect to.
    @discardableResult
    public func check(_ raw: String) async throws(Refusal) -> Checked {
        let url = try checkSyntax(raw)
        let host = url.host ?? ""
        let port = url.port ?? (url.scheme == "https" ? 443 : 80)
        // An address literal needs no lookup.
        let literal = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let addresses: [SocketAddress]
        if let address = try? SocketAddress(ipAddress: literal, port: port) {
            addresses = [address]
        } else {
            do {
                addresses = try await resolve(host, port)
            } catch {
                throw .unresolvable(host)
            }
        }
        guard let first = addresses.first, let pinned = first.ipAddress else { throw .unresolvable(host) }
        for address in addresses {
            switch Self.classify(address) {
            case .public: continue
            case .loopback where allowLoopback: continue
            case .private where allowPrivate: continue
            default: throw .forbiddenAddress(address.ipAddress ?? host)
            }
        }
        return Checked(url: url, host: host, address: pinned, isLiteral: addresses.count == 1 && literal == pinned)
    }

    public enum AddressClass: Equatable { case `public`, loopback, `private`, forbidden }

    public static func classify(_ address: SocketAddress) -> AddressClass {
        switch address {
        case .v4(let v4): return classify(v4: UInt32(bigEndian: v4.address.sin_addr.s_addr))
        case .v6(let v6):
            let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
            if bytes == Array(repeating: 0, count: 15) + [1] { return .loopback }
            if bytes.allSatisfy({ $0 == 0 }) { return .forbidden }
            // IPv4-mapped (::ffff:a.b.c.d): judged as the IPv4 address.
            if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff {
                return classify(v4: bytes[12..<16].reduce(0) { $0 << 8 | UInt32($1) })
            }
            // Forms that carry an IPv4 address a gateway on the way may turn into a
            // connection to it: IPv4-compatible (::a.b.c.d, deprecated), NAT64 (64:ff9b::/96
            // and the local-use 64:ff9b:1::/48), 6to4 (2002::/16).
            if bytes[0..<12].allSatisfy({ $0 == 0 }) { return .forbidden }
            if bytes[0..<4] == [0x00, 0x64, 0xff, 0x9b] { return .forbidden }
            if bytes[0] == 0x20, bytes[1] == 0x02 { return .forbidden }
            if bytes[0] & 0xfe == 0xfc { return .private }  // fc00::/7 unique local
            if bytes[0] == 0xfe, bytes[1] & 0xc0 == 0x80 { return .forbidden }  // fe80::/10 link-local
            if bytes[0] == 0xfe, bytes[1] & 0xc0 == 0xc0 { return .forbidden }  // fec0::/10 site-local (deprecated)
            if bytes[0] == 0xff { return .forbidden }  // multicast
            return .public
        default: return .forbidden
        }
    }

    public static func classify(v4 address: UInt32) -> AddressClass {
        func within(_ network: UInt32, _ bits: UInt32) -> Bool { address >> (32 - bits) == network >> (32 - bits) }
        if within(0x7f00_0000, 8) { return .loopback }
        if within(0x0a00_0000, 8) || within(0xac10_0000, 12) || within(0xc0a8_0000, 16) || within(0x6440_0000, 10) { return .private }
        // 0/8, link-local and cloud metadata (169.254/16), multicast and reserved (224/3).
        if within(0, 8) || within(0xa9fe_0000, 16) || within(0xe000_0000, 3) { return .forbidden }
        return .public
    }

    public static func systemResolve(_ host: String, port: Int) throws -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(result) }
        var addresses: [SocketAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            if let raw = entry.pointee.ai_addr {
                switch Int32(entry.pointee.ai_family) {
                case AF_INET:
                    addresses.append(raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { SocketAddress($0.pointee, host: host) })
                case AF_INET6:
                    addresses.append(raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { SocketAddress($0.pointee, host: host) })
                default: break
                }
            }
            cursor = entry.pointee.ai_next
        }
        return addresses
    }
}
