import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceKit

/// Forwards requests whose path matches the route table to the upstream, verifying the
/// access token first on non-public routes. Bodies stream both ways. Paths that match
/// no route fall through to the router (operational routes, then 404 problem+json).
struct ProxyMiddleware: RouterMiddleware {
    typealias Context = ServiceRequestContext

    let table: RouteTable
    let client: HTTPClient
    let verifier: TokenVerifier

    /// RFC 9110 §7.6.1 hop-by-hop fields, plus identity headers a client must not set:
    /// upstreams learn the caller only from the verified token.
    static let dropped: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "host", "x-tenant-id", "x-user-id", "x-user-roles", "x-forwarded-for",
        "x-forwarded-proto", "x-forwarded-host",
    ]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let route = table.match(request.uri.path) else { return try await next(request, context) }
        var context = context
        if !route.isPublic {
            guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
                throw Problem.unauthorized("A bearer access token is required.")
            }
            let identity = try await verifier.verify(String(header.dropFirst("bearer ".count)))
            context.logger[metadataKey: "tenant_id"] = .string(identity.tenantID.uuidString.lowercased())
        }
        return try await forward(request, to: route, context: context)
    }

    func forward(_ request: Request, to route: Route, context: Context) async throws -> Response {
        var outgoing = HTTPClientRequest(url: route.upstream + (request.uri.string.hasPrefix("/") ? request.uri.string : "/" + request.uri.string))
        outgoing.method = .init(rawValue: request.method.rawValue)
        var clientIP = ""
        if let address = context.remoteAddress?.ipAddress { clientIP = address }
        for field in request.headers where !Self.dropped.contains(field.name.canonicalName) {
            outgoing.headers.add(name: field.name.rawName, value: field.value)
        }
        let priorFor = request.headers[values: HTTPField.Name("X-Forwarded-For")!].joined(separator: ", ")
        outgoing.headers.replaceOrAdd(name: "X-Forwarded-For", value: priorFor.isEmpty ? clientIP : "\(priorFor), \(clientIP)")
        outgoing.headers.replaceOrAdd(name: "X-Forwarded-Proto", value: "http")
        if let host = request.head.authority { outgoing.headers.replaceOrAdd(name: "X-Forwarded-Host", value: host) }
        outgoing.headers.replaceOrAdd(name: "X-Request-ID", value: context.requestID)
        if request.headers[.traceparent] == nil { outgoing.headers.replaceOrAdd(name: "traceparent", value: TraceParent.make()) }

        // Attach a body only when the request has one: a streamed body on a GET goes out chunked.
        let length = request.headers[.contentLength].flatMap(Int.init)
        if let length, length > 0 {
            outgoing.body = .stream(request.body, length: .known(Int64(length)))
        } else if length == nil, request.headers[.transferEncoding] != nil {
            outgoing.body = .stream(request.body, length: .unknown)
        }

        let upstream: HTTPClientResponse
        do {
            upstream = try await client.execute(outgoing, timeout: .nanoseconds(route.timeout.components.seconds * 1_000_000_000))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw Problem(status: .gatewayTimeout, detail: "The upstream service did not answer in time.")
        } catch {
            context.logger.warning("upstream unreachable", metadata: ["upstream": "\(route.upstream)", "error": "\(error)"])
            throw Problem(status: .badGateway, detail: "The upstream service is unavailable.")
        }
        var headers = HTTPFields()
        for header in upstream.headers where !Self.dropped.contains(header.name.lowercased()) && header.name.lowercased() != "content-length" {
            if let name = HTTPField.Name(header.name) { headers.append(HTTPField(name: name, value: header.value)) }
        }
        if let length = upstream.headers.first(name: "content-length") { headers[.contentLength] = length }
        return Response(
            status: .init(code: Int(upstream.status.code), reasonPhrase: upstream.status.reasonPhrase), headers: headers,
            body: ResponseBody(asyncSequence: upstream.body))
    }
}

/// W3C Trace Context `traceparent` (§3.2) for requests that arrive without one.
enum TraceParent {
    static func make() -> String {
        func hex(_ count: Int) -> String { (0..<count).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined() }
        return "00-\(hex(16))-\(hex(8))-01"
    }
}
