import NIOHTTP1

/// The header rewriting a proxy owes both sides (RFC 9110 §7.6).
enum ForwardedHeaders {
    /// Hop-by-hop fields (RFC 9110 §7.6.1), plus identity headers a client must not set
    /// (upstreams learn the caller only from the verified token) and forwarding headers
    /// the gateway writes itself.
    static let requestDropped: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "host", "expect", "x-tenant-id", "x-user-id", "x-user-roles", "x-forwarded-for",
        "x-forwarded-proto", "x-forwarded-host", "x-request-id",
    ]
    static let responseDropped: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "te", "trailer", "transfer-encoding", "upgrade",
        "x-request-id",
    ]

    /// The request head for the upstream: the client's fields minus the dropped ones and
    /// those its `Connection` field names, then forwarding fields, request id, trace context.
    static func request(_ head: HTTPRequestHead, upstream: Upstream, clientIP: String, requestID: String, ids: inout RequestIDs) -> HTTPRequestHead {
        let named = connectionOptions(head.headers)
        var fields = HTTPHeaders()
        fields.reserveCapacity(head.headers.count + 6)
        fields.add(name: "Host", value: upstream.authority)
        var priorFor = ""
        var hasTrace = false
        for (name, value) in head.headers {
            let lower = name.lowercased()
            if lower == "x-forwarded-for" { priorFor += priorFor.isEmpty ? value : ", " + value }
            if lower == "traceparent" { hasTrace = true }
            if requestDropped.contains(lower) || named.contains(lower) { continue }
            fields.add(name: name, value: value)
        }
        // Appended, never trusted as given: services read the last hop as the client.
        fields.add(name: "X-Forwarded-For", value: priorFor.isEmpty ? clientIP : priorFor + ", " + clientIP)
        fields.add(name: "X-Forwarded-Proto", value: "http")
        if let host = head.headers.first(name: "host") { fields.add(name: "X-Forwarded-Host", value: host) }
        fields.add(name: "X-Request-ID", value: requestID)
        if !hasTrace { fields.add(name: "traceparent", value: ids.traceparent()) }
        // Content-Length passes as given; a chunked body goes out chunked again (the encoder frames it).
        var outgoing = HTTPRequestHead(version: .http1_1, method: head.method, uri: head.uri)
        outgoing.headers = fields
        return outgoing
    }

    /// The upstream's answer minus hop-by-hop fields; the encoder frames the body again.
    static func response(_ head: HTTPResponseHead) -> HTTPHeaders {
        let named = connectionOptions(head.headers)
        var fields = HTTPHeaders()
        fields.reserveCapacity(head.headers.count + 4)
        for (name, value) in head.headers {
            let lower = name.lowercased()
            if responseDropped.contains(lower) || named.contains(lower) { continue }
            fields.add(name: name, value: value)
        }
        return fields
    }

    /// Field names listed in `Connection` are hop-by-hop too (RFC 9110 §7.6.1).
    static func connectionOptions(_ headers: HTTPHeaders) -> Set<String> {
        var names: Set<String> = []
        for value in headers[canonicalForm: "connection"] {
            let name = value.lowercased()
            if name != "close" && name != "keep-alive" { names.insert(name) }
        }
        return names
    }

    /// The caller's `X-Request-ID` when usable, else a new one.
    static func requestID(_ headers: HTTPHeaders, ids: inout RequestIDs) -> String {
        if let given = headers.first(name: "x-request-id"), !given.isEmpty, given.utf8.count <= 200 { return given }
        return ids.requestID()
    }
}
