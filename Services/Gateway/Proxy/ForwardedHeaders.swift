import NIOCore

/// The header rewriting a proxy owes both sides (RFC 9110 §7.6), written as bytes: the
/// fields that pass are copied as received, and framing fields are kept because bodies
/// pass with the framing they came with.
enum ForwardedHeaders {
    /// Hop-by-hop fields (RFC 9110 §7.6.1) except the framing, plus identity headers a
    /// client must not set (upstreams learn the caller only from the verified token) and
    /// forwarding headers the gateway writes itself.
    static let requestDropped: [FieldName] = [
        FieldName("connection"), FieldName("keep-alive"), FieldName("proxy-connection"), FieldName("proxy-authenticate"),
        FieldName("proxy-authorization"), FieldName("te"), FieldName("trailer"), FieldName("upgrade"), FieldName("host"),
        FieldName("expect"), FieldName("x-tenant-id"), FieldName("x-user-id"), FieldName("x-user-roles"), FieldName("x-forwarded-for"),
        FieldName("x-forwarded-proto"), FieldName("x-forwarded-host"), FieldName("x-request-id"),
    ]
    static let responseDropped: [FieldName] = [
        FieldName("connection"), FieldName("keep-alive"), FieldName("proxy-connection"), FieldName("proxy-authenticate"), FieldName("te"),
        FieldName("trailer"), FieldName("upgrade"), FieldName("x-request-id"),
    ]

    /// The request head for the upstream: the request line and the client's fields minus
    /// the dropped ones and those its `Connection` field names, then forwarding fields,
    /// request id and trace context.
    /// `traceparent`: the gateway's own span, which replaces the client's as the upstream's parent.
    static func request(
        _ head: RequestHead, upstream: Upstream, clientIP: String, requestID: String, traceparent: String? = nil, ids: inout RequestIDs
    ) -> ByteBuffer {
        let message = head.message
        var out = ByteBuffer()
        out.reserveCapacity(message.bytes.readableBytes + 320)
        message.bytes.withUnsafeReadableBytes { raw in
            _ = out.writeBytes(UnsafeRawBufferPointer(rebasing: raw[message.startLine]))
        }
        out.writeStaticString("\r\nHost: ")
        out.writeString(upstream.authority)
        out.writeStaticString("\r\n")
        var priorFor: [MessageHead.Field] = []
        var host: MessageHead.Field?
        var hasTrace = false
        for field in message.fields {
            if FieldName.forwardedFor.matches(message.bytes, field.name) {
                priorFor.append(field)
                continue
            }
            if FieldName.host.matches(message.bytes, field.name) { host = host ?? field }
            if FieldName.traceparent.matches(message.bytes, field.name) {
                if traceparent != nil { continue }
                hasTrace = true
            }
            if isListed(field, of: message, in: requestDropped) { continue }
            message.writeField(field, to: &out)
        }
        // Appended, never trusted as given: services read the last hop as the client.
        out.writeStaticString("X-Forwarded-For: ")
        for field in priorFor where !field.value.isEmpty {
            out.writeBytes(message.bytes.readableBytesView[field.value])
            out.writeStaticString(", ")
        }
        out.writeString(clientIP)
        out.writeStaticString("\r\nX-Forwarded-Proto: http\r\n")
        if let host {
            out.writeStaticString("X-Forwarded-Host: ")
            out.writeBytes(message.bytes.readableBytesView[host.value])
            out.writeStaticString("\r\n")
        }
        out.writeStaticString("X-Request-ID: ")
        out.writeString(requestID)
        out.writeStaticString("\r\n")
        if let traceparent {
            out.writeStaticString("traceparent: ")
            out.writeString(traceparent)
            out.writeStaticString("\r\n")
        } else if !hasTrace {
            out.writeStaticString("traceparent: ")
            ids.writeTraceparent(into: &out)
            out.writeStaticString("\r\n")
        }
        out.writeStaticString("\r\n")
        return out
    }

    /// The upstream's status line and fields minus hop-by-hop ones and those the gateway
    /// writes itself (`replaced`). The caller adds its own fields and the empty line.
    static func response(_ head: ResponseHead, replaced: [FieldName], into out: inout ByteBuffer) {
        let message = head.message
        message.bytes.withUnsafeReadableBytes { raw in
            _ = out.writeBytes(UnsafeRawBufferPointer(rebasing: raw[message.startLine]))
        }
        out.writeStaticString("\r\n")
        // RFC 9112 §6.3: Transfer-Encoding overrides Content-Length, which must not go on.
        let dropLength = message.contains(.transferEncoding)
        for field in message.fields {
            if isListed(field, of: message, in: responseDropped) || isListed(field, of: message, in: replaced) { continue }
            if dropLength, FieldName.contentLength.matches(message.bytes, field.name) { continue }
            message.writeField(field, to: &out)
        }
    }

    /// Framing fields pass whatever `Connection` says: requests naming them are refused by
    /// the parser, and an answer keeps the framing the gateway read it by.
    private static func isListed(_ field: MessageHead.Field, of message: MessageHead, in names: [FieldName]) -> Bool {
        if names.contains(where: { $0.matches(message.bytes, field.name) }) { return true }
        guard message.connectionOptions.contains(where: { $0.matches(message.bytes, field.name) }) else { return false }
        return !FieldName.contentLength.matches(message.bytes, field.name) && !FieldName.transferEncoding.matches(message.bytes, field.name)
    }

    /// The caller's `X-Request-ID` when usable, else a new one.
    static func requestID(_ head: RequestHead, ids: inout RequestIDs) -> String {
        if let given = head.message.first(.requestID), !given.isEmpty, given.utf8.count <= 200 { return given }
        return ids.requestID()
    }
}
