import Foundation

/// One address per article, whichever feed links it: the scheme and host lower-cased, the
/// default port, the fragment and tracking parameters (utm_*, fbclid, gclid, …) dropped, the
/// remaining parameters sorted, and a bare trailing slash removed from a path. Two sources that
/// link one article with different campaign tags then give one catalogue item.
enum CanonicalURL {
    static let trackingPrefixes = ["utm_", "mc_", "pk_"]
    static let trackingNames: Set<String> = [
        "fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "ref", "ref_src", "cmpid", "_hsenc", "_hsmi", "mkt_tok",
    ]

    static func of(_ url: URL) -> URL {
        guard var parts = URLComponents(url: url, resolvingAgainstBaseURL: true) else { return url }
        parts.scheme = parts.scheme?.lowercased()
        parts.host = parts.host?.lowercased()
        if (parts.scheme == "http" && parts.port == 80) || (parts.scheme == "https" && parts.port == 443) { parts.port = nil }
        parts.fragment = nil
        let kept = (parts.queryItems ?? []).filter { item in
            let name = item.name.lowercased()
            return !trackingNames.contains(name) && !trackingPrefixes.contains { name.hasPrefix($0) }
        }
        parts.queryItems = kept.isEmpty ? nil : kept.sorted { ($0.name, $0.value ?? "") < ($1.name, $1.value ?? "") }
        if parts.path.count > 1, parts.path.hasSuffix("/") { parts.path.removeLast() }
        if parts.path.isEmpty { parts.path = "/" }
        return parts.url ?? url
    }
}
