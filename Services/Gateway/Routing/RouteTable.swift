import Foundation

/// One entry of the route table: a path prefix and the upstream that serves it.
struct Route: Sendable, Equatable {
    var prefix: String
    var upstream: String
    /// Public routes are forwarded without a token (sign-up, login, JWKS, …).
    var isPublic: Bool
    var timeout: Duration

    /// `/v1/tasks` matches `/v1/tasks` and `/v1/tasks/…`, not `/v1/tasksx`.
    func matches(_ path: String) -> Bool {
        path == prefix || path.hasPrefix(prefix.hasSuffix("/") ? prefix : prefix + "/")
    }
}

struct RouteTableError: Error, CustomStringConvertible {
    let description: String
}

/// The gateway's routes, matched by longest prefix. Declared in a JSON file
/// (`GATEWAY_ROUTES_FILE`), not in code, so operators change routing without a build.
struct RouteTable: Sendable {
    let routes: [Route]

    init(_ routes: [Route]) {
        self.routes = routes.sorted { $0.prefix.count > $1.prefix.count }
    }

    func match(_ path: String) -> Route? {
        routes.first { $0.matches(path) }
    }

    struct File: Decodable {
        struct Entry: Decodable {
            var prefix: String
            var upstream: String
            var `public`: Bool?
            var timeoutSeconds: Int?
        }
        var routes: [Entry]
    }

    /// Parses and checks the table; an invalid entry stops start-up with its index and prefix.
    static func parse(_ data: Data) throws -> RouteTable {
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw RouteTableError(description: "route table is not valid JSON of the expected shape: \(error)")
        }
        var routes: [Route] = []
        for (index, entry) in file.routes.enumerated() {
            let name = "route \(index) (\(entry.prefix))"
            guard entry.prefix.hasPrefix("/"), !entry.prefix.contains("?"), !entry.prefix.contains("#") else {
                throw RouteTableError(description: "\(name): prefix must be a path starting with /")
            }
            guard let url = URL(string: entry.upstream), ["http", "https"].contains(url.scheme ?? ""), url.host != nil,
                url.path.isEmpty || url.path == "/"
            else {
                throw RouteTableError(description: "\(name): upstream must be an http(s) base URL without a path, got '\(entry.upstream)'")
            }
            let timeout = entry.timeoutSeconds ?? 30
            guard (1...600).contains(timeout) else { throw RouteTableError(description: "\(name): timeoutSeconds must be 1...600") }
            guard !routes.contains(where: { $0.prefix == entry.prefix }) else { throw RouteTableError(description: "\(name): duplicate prefix") }
            let upstream = entry.upstream.hasSuffix("/") ? String(entry.upstream.dropLast()) : entry.upstream
            routes.append(Route(prefix: entry.prefix, upstream: upstream, isPublic: entry.public ?? false, timeout: .seconds(timeout)))
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
