import Foundation

/// How a class of routes is rate-limited. Tenant and user limits come from the tenant's
/// plan (authenticated routes); the client-IP limit is the class's own (public routes
/// such as login get a strict one).
struct RateLimitClass: Sendable, Equatable {
    var name: String
    var limitsTenants = true
    var limitsUsers = true
    /// Requests per minute per client IP, and how many may come at once.
    var ipPerMinute: Int?
    var ipBurst: Int = 10
    /// Count and log "would limit" without refusing.
    var shadow = false

    static let standard = RateLimitClass(name: "default")
    static let unlimited = RateLimitClass(name: "none", limitsTenants: false, limitsUsers: false)
}

/// An upstream base URL (`http://tasks:8080`), taken apart once when the table loads.
struct Upstream: Sendable, Hashable, CustomStringConvertible {
    var base: String
    var host: String
    var port: Int
    var tls: Bool
    /// The `Host` field for requests to it.
    var authority: String

    init?(_ base: String) {
        guard let url = URL(string: base), let scheme = url.scheme, ["http", "https"].contains(scheme), let host = url.host, !host.isEmpty,
            url.path.isEmpty || url.path == "/", url.query == nil, url.user == nil
        else { return nil }
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
        self.host = host
        self.tls = scheme == "https"
        self.port = url.port ?? (tls ? 443 : 80)
        self.authority = url.port.map { "\(host):\($0)" } ?? host
    }

    var description: String { base }

    // The base URL determines the rest; hashing it alone keeps the idle-connection
    // lookups (twice per request) to one string.
    static func == (a: Upstream, b: Upstream) -> Bool { a.base == b.base }
    func hash(into hasher: inout Hasher) { hasher.combine(base) }
}

/// One entry of the route table: a path prefix and the upstreams that serve it.
struct Route: Sendable, Equatable {
    var prefix: String
    var upstreams: [Upstream]
    /// Public routes are forwarded without a token (sign-up, login, JWKS, …).
    var isPublic: Bool
    var timeout: Duration
    var maxBodyBytes: Int
    var limits: RateLimitClass

    var upstream: String { upstreams[0].base }

    /// `/v1/tasks` matches `/v1/tasks` and `/v1/tasks/…`, not `/v1/tasksx`.
    func matches(_ path: some StringProtocol) -> Bool {
        let path = path.utf8
        let prefix = prefix.utf8
        guard path.starts(with: prefix) else { return false }
        guard let next = path.dropFirst(prefix.count).first else { return true }
        return next == UInt8(ascii: "/") || prefix.last == UInt8(ascii: "/")
    }
}

struct RouteTableError: Error, CustomStringConvertible {
    let description: String
}

/// The gateway's routes, matched by longest prefix. Declared in a JSON file
/// (`GATEWAY_ROUTES_FILE`), not in code, so operators change routing without a build.
struct RouteTable: Sendable {
    static let defaultMaxBodyBytes = 10 << 20
    let routes: [Route]

    init(_ routes: [Route]) {
        self.routes = routes.sorted { $0.prefix.count > $1.prefix.count }
    }

    func match(_ path: some StringProtocol) -> Route? {
        routes.first { $0.matches(path) }
    }

    struct File: Decodable {
        struct Entry: Decodable {
            var prefix: String
            var upstream: String?
            var upstreams: [String]?
            var `public`: Bool?
            var timeoutSeconds: Int?
            var maxBodyBytes: Int?
            var rateLimitClass: String?
        }
        struct LimitClass: Decodable {
            var tenant: Bool?
            var user: Bool?
            var ipPerMinute: Int?
            var ipBurst: Int?
            var shadow: Bool?
        }
        var rateLimitClasses: [String: LimitClass]?
        var routes: [Entry]
    }

    /// Parses and checks the table; an invalid entry stops start-up (or a reload) with its
    /// index and prefix.
    static func parse(_ data: Data) throws -> RouteTable {
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw RouteTableError(description: "route table is not valid JSON of the expected shape: \(error)")
        }
        var classes: [String: RateLimitClass] = ["default": .standard, "none": .unlimited]
        for (name, entry) in file.rateLimitClasses ?? [:] {
            if let perMinute = entry.ipPerMinute, !(1...1_000_000).contains(perMinute) {
                throw RouteTableError(description: "rate-limit class \(name): ipPerMinute must be 1...1000000")
            }
            classes[name] = RateLimitClass(
                name: name, limitsTenants: entry.tenant ?? true, limitsUsers: entry.user ?? true, ipPerMinute: entry.ipPerMinute,
                ipBurst: max(1, entry.ipBurst ?? 10), shadow: entry.shadow ?? false)
        }
        var routes: [Route] = []
        for (index, entry) in file.routes.enumerated() {
            let name = "route \(index) (\(entry.prefix))"
            guard entry.prefix.hasPrefix("/"), !entry.prefix.contains("?"), !entry.prefix.contains("#") else {
                throw RouteTableError(description: "\(name): prefix must be a path starting with /")
            }
            let given = (entry.upstreams ?? []) + (entry.upstream.map { [$0] } ?? [])
            guard !given.isEmpty else { throw RouteTableError(description: "\(name): needs an upstream or upstreams") }
            var upstreams: [Upstream] = []
            for given in given {
                guard let upstream = Upstream(given) else {
                    throw RouteTableError(description: "\(name): upstream must be an http(s) base URL without a path, got '\(given)'")
                }
                upstreams.append(upstream)
            }
            let timeout = entry.timeoutSeconds ?? 30
            guard (1...600).contains(timeout) else { throw RouteTableError(description: "\(name): timeoutSeconds must be 1...600") }
            let maxBody = entry.maxBodyBytes ?? defaultMaxBodyBytes
            guard (0...(1 << 34)).contains(maxBody) else { throw RouteTableError(description: "\(name): maxBodyBytes must be 0...17179869184") }
            guard let limits = classes[entry.rateLimitClass ?? "default"] else {
                throw RouteTableError(description: "\(name): unknown rateLimitClass '\(entry.rateLimitClass ?? "")'")
            }
            guard !routes.contains(where: { $0.prefix == entry.prefix }) else { throw RouteTableError(description: "\(name): duplicate prefix") }
            routes.append(
                Route(
                    prefix: entry.prefix, upstreams: upstreams, isPublic: entry.public ?? false, timeout: .seconds(timeout), maxBodyBytes: maxBody,
                    limits: limits))
        }
        return RouteTable(routes)
    }

    static func load(path: String) throws -> RouteTable {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RouteTableError(description: "route table file '\(path)' (GATEWAY_ROUTES_FILE) cannot be read")
        }
        return try parse(data)
    }
}
