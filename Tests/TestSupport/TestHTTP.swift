import AsyncHTTPClient
import Foundation
import NIOCore

/// An HTTP answer with its body parsed as JSON when it is JSON.
public struct HTTPAnswer: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: Data

    public var json: [String: Any] {
        ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any]) ?? [:]
    }

    public func string(_ key: String) -> String? { json[key] as? String }
    /// A list page's items.
    public var items: [[String: Any]] { json["items"] as? [[String: Any]] ?? [] }

    public var contentType: String { headers["content-type"] ?? "" }
}

/// Requests over real HTTP.
public enum TestHTTP {
    /// For flows that inspect each redirect (OAuth); lives as long as the test process.
    static let noRedirects = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))

    /// For load: up to 64 connections per host (the shared client keeps 8).
    public static let wide: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        // Idle connections go before the servers drop them (uvicorn, the OpenID provider's
        // server, closes after 5 s): reusing one it just closed fails the request.
        configuration.connectionPool = .init(idleTimeout: .seconds(3), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    public static func send(
        _ method: String, _ url: String, json: Any? = nil, raw: String? = nil, bytes: [UInt8]? = nil, token: String? = nil,
        headers: [String: String] = [:], followRedirects: Bool = true, client: HTTPClient? = nil
    ) async throws -> HTTPAnswer {
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json)))
        } else if let raw {
            if !headers.keys.contains(where: { $0.lowercased() == "content-type" }) {
                request.headers.add(name: "Content-Type", value: "application/json")
            }
            request.body = .bytes(ByteBuffer(string: raw))
        } else if let bytes {
            request.body = .bytes(ByteBuffer(bytes: bytes))
        }
        // The wide client: with the whole suite running at once, the shared client's 8
        // connections per host queue requests long enough to hit timeouts.
        let client = client ?? (followRedirects ? wide : noRedirects)
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 10 << 20)
        var collected: [String: String] = [:]
        for header in response.headers { collected[header.name.lowercased()] = header.value }
        return HTTPAnswer(status: Int(response.status.code), headers: collected, body: Data(buffer: body))
    }

    /// POSTs `chunks` × `chunkSize` bytes as a chunked stream (no Content-Length), made as
    /// it is sent; answers the status.
    public static func streamed(_ url: String, chunks: Int, chunkSize: Int, token: String? = nil) async throws -> Int {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.headers.add(name: "Content-Type", value: "application/octet-stream")
        let chunk = ByteBuffer(repeating: UInt8(ascii: "z"), count: chunkSize)
        let stream = AsyncStream<ByteBuffer> { continuation in
            for _ in 0..<chunks { continuation.yield(chunk) }
            continuation.finish()
        }
        request.body = .stream(stream, length: .unknown)
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
            _ = try await response.body.collect(upTo: 1 << 20)
            return Int(response.status.code)
        } catch {
            // The gateway may answer 413 and close before the whole body is sent.
            return -1
        }
    }
}
