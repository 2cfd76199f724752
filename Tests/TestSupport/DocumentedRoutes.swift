import APIDocuments
import Hummingbird
import Testing

/// Whether a service's OpenAPI document and its router describe the same operations.
public enum DocumentedRoutes {
    /// Served by every service for operators and probes, not part of the public API (the
    /// gateway does not route them to a service).
    static let operational: Set<String> = ["GET /healthz", "GET /readyz", "GET /metrics", "GET /openapi.json"]

    /// Fails the test with every routed operation the document lacks and every documented
    /// operation no route serves.
    public static func expectAgreement<Context>(
        _ router: Router<Context>, service: String, sourceLocation: SourceLocation = #_sourceLocation
    )
        throws
    {
        let routed = Set(router.routes.map { "\($0.method.rawValue) \(openAPIPath($0.path.description))" }).subtracting(operational)
        let documented = try APIDocument.operations(for: service)
        #expect(routed.subtracting(documented).sorted() == [], "routed but not documented", sourceLocation: sourceLocation)
        #expect(documented.subtracting(routed).sorted() == [], "documented but not routed", sourceLocation: sourceLocation)
        #expect(!documented.isEmpty, sourceLocation: sourceLocation)
    }

    /// `/v1/tasks/:id` → `/v1/tasks/{id}`.
    static func openAPIPath(_ path: String) -> String {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map { part in
            part.hasPrefix(":") ? "{\(part.dropFirst())}" : String(part)
        }
        let joined = parts.joined(separator: "/")
        return joined.hasPrefix("/") ? joined : "/" + joined
    }
}
