import NIOCore
import NIOHTTP1

/// CORS for the configured console origins (exact match). Preflights are answered at the
/// gateway, never forwarded; other answers, errors included, carry the allow headers when
/// the origin is allowed.
struct CORSPolicy: Sendable {
    let origins: Set<String>

    static let exposed = "RateLimit, RateLimit-Policy, Retry-After, X-Request-ID, ETag, Location"
    static let methods = "GET, POST, PUT, PATCH, DELETE, OPTIONS"

    static func isPreflight(_ head: RequestHead) -> Bool {
        head.method == .OPTIONS && head.message.contains(.origin) && head.message.contains(.accessControlRequestMethod)
    }

    /// The preflight answer's fields, or nil when the origin is not allowed.
    func preflight(_ head: RequestHead) -> HTTPHeaders? {
        guard let origin = head.message.first(.origin), origins.contains(origin) else { return nil }
        return [
            "Access-Control-Allow-Origin": origin, "Access-Control-Allow-Methods": Self.methods,
            "Access-Control-Allow-Headers": head.message.first(.accessControlRequestHeaders) ?? "Authorization, Content-Type",
            "Access-Control-Max-Age": "600", "Vary": "Origin",
        ]
    }

    func allows(_ origin: String?) -> Bool {
        guard let origin else { return false }
        return origins.contains(origin)
    }

    /// The fields `decorate` writes, which replace an upstream's own.
    static let decorated = [FieldName("access-control-allow-origin"), FieldName("access-control-expose-headers"), FieldName("vary")]

    /// The allow fields for an answer to an allowed origin.
    func decorate(_ out: inout ByteBuffer, origin: String?) {
        guard let origin, allows(origin) else { return }
        out.writeStaticString("Access-Control-Allow-Origin: ")
        out.writeString(origin)
        out.writeStaticString("\r\nAccess-Control-Expose-Headers: ")
        out.writeString(Self.exposed)
        out.writeStaticString("\r\nVary: Origin\r\n")
    }
}
