import NIOHTTP1

/// CORS for the configured console origins (exact match). Preflights are answered at the
/// gateway, never forwarded; other answers, errors included, carry the allow headers when
/// the origin is allowed.
struct CORSPolicy: Sendable {
    let origins: Set<String>

    static let exposed = "RateLimit, RateLimit-Policy, Retry-After, X-Request-ID, ETag, Location"
    static let methods = "GET, POST, PUT, PATCH, DELETE, OPTIONS"

    static func isPreflight(_ head: HTTPRequestHead) -> Bool {
        head.method == .OPTIONS && head.headers.contains(name: "origin") && head.headers.contains(name: "access-control-request-method")
    }

    /// The preflight answer's fields, or nil when the origin is not allowed.
    func preflight(_ head: HTTPRequestHead) -> HTTPHeaders? {
        guard let origin = head.headers.first(name: "origin"), origins.contains(origin) else { return nil }
        return [
            "Access-Control-Allow-Origin": origin, "Access-Control-Allow-Methods": Self.methods,
            "Access-Control-Allow-Headers": head.headers.first(name: "access-control-request-headers") ?? "Authorization, Content-Type",
            "Access-Control-Max-Age": "600", "Vary": "Origin",
        ]
    }

    func decorate(_ headers: inout HTTPHeaders, origin: String?) {
        guard let origin, origins.contains(origin) else { return }
        headers.replaceOrAdd(name: "Access-Control-Allow-Origin", value: origin)
        headers.replaceOrAdd(name: "Access-Control-Expose-Headers", value: Self.exposed)
        headers.replaceOrAdd(name: "Vary", value: "Origin")
    }
}
