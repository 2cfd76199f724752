import Foundation
import Hummingbird
import NIOCore
import NIOPosix
import TestSupport
import Testing

@testable import Gateway

/// A gateway in front of echo upstreams that answer with the headers they received.
struct GatewayHarness {
    struct Running: Sendable {
        var url: String
        var issuer: TestIssuer
        var routesFile: URL
        var upstreams: [String]
    }

    static let shared = GatewayHarness()
    private let started = StartOnce<Running> { try await GatewayHarness.start() }

    func get() async throws -> (url: String, issuer: TestIssuer) {
        let running = try await started.value()
        return (running.url, running.issuer)
    }

    func running() async throws -> Running { try await started.value() }

    static let consoleOrigin = "https://console.example.com"

    static func upstream(name: String) async throws -> TestServer {
        try await TestServer.start { onRunning in
            let router = Router()
            // Starts its answer, then stalls: the gateway's route timeout falls mid-answer.
            router.get("stall") { _, _ -> Response in
                let (body, writer) = AsyncStream<ByteBuffer>.makeStream()
                writer.yield(ByteBuffer(string: "first"))
                Task {
                    try? await Task.sleep(for: .seconds(10))
                    writer.yield(ByteBuffer(string: "late"))
                    writer.finish()
                }
                return Response(status: .ok, body: ResponseBody(asyncSequence: body))
            }
            router.get("slowpoke") { _, _ -> String in
                try await Task.sleep(for: .seconds(5))
                return "late"
            }
            // Streams its answer: one chunk, then (once the client says it has that chunk)
            // the last one, "ok", or "timeout" when the first never got through.
            router.get("upload/relay/:probe") { _, context -> Response in
                let probe = context.parameters.get("probe") ?? ""
                let (body, writer) = AsyncStream<ByteBuffer>.makeStream()
                writer.yield(ByteBuffer(repeating: UInt8(ascii: "a"), count: 64 * 1024))
                Task {
                    let delivered = await Relay.shared.wait("down:" + probe, seconds: 10)
                    writer.yield(ByteBuffer(string: delivered ? "ok" : "timeout"))
                    writer.finish()
                }
                return Response(status: .ok, body: ResponseBody(asyncSequence: body))
            }
            // Says when the first chunk of an upload has arrived, then counts the rest.
            router.post("upload/relay/:probe") { request, context -> Response in
                let probe = context.parameters.get("probe") ?? ""
                var bytes = 0
                for try await chunk in request.body {
                    if bytes == 0 { await Relay.shared.fire("up:" + probe) }
                    bytes += chunk.readableBytes
                }
                return echo(request, body: "", upstream: name, bytes: bytes)
            }
            router.get("**") { request, _ in
                await Relay.shared.fire("seen:" + request.uri.path)
                return echo(request, body: "", upstream: name)
            }
            router.post("**") { request, _ in
                await Relay.shared.fire("seen:" + request.uri.path)
                // Counts instead of collecting, so a large upload stays small here too.
                var bytes = 0
                for try await chunk in request.body { bytes += chunk.readableBytes }
                return echo(request, body: "", upstream: name, bytes: bytes)
            }
            return Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { await onRunning($0.localAddress?.port ?? 0) }, logger: TestEnvironment.logger)
        }
    }

    /// Sends `requests` as raw bytes on one connection to the shared gateway and returns everything the gateway
    /// answers until it closes the connection. The echo's JSON may escape slashes; they
    /// come back unescaped.
    static func rawExchange(_ requests: String, to url: String? = nil) async throws -> String {
        var target = url ?? ""
        if url == nil { target = try await shared.get().url }
        let port = try #require(URL(string: target)?.port)
        let channel = try await ClientBootstrap(group: .singletonMultiThreadedEventLoopGroup).connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: requests))
            var received = ""
            for try await chunk in inbound { received += String(buffer: chunk) }
            return received.replacingOccurrences(of: "\\/", with: "/")
        }
    }

    /// The status codes of the answers in a raw exchange, in order.
    static func statuses(_ received: String) -> [String] {
        received.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0.prefix(3)) }
    }

    static func routes(_ a: String, _ b: String) -> String {
        """
        {"rateLimitClasses": {
           "login": {"ipPerMinute": 6, "ipBurst": 3},
           "shadowed": {"ipPerMinute": 6, "ipBurst": 2, "shadow": true}
         },
         "routes": [
          {"prefix": "/public", "upstream": "\(a)", "public": true},
          {"prefix": "/login", "upstream": "\(a)", "public": true, "rateLimitClass": "login"},
          {"prefix": "/shadow", "upstream": "\(a)", "public": true, "rateLimitClass": "shadowed"},
          {"prefix": "/private", "upstream": "\(a)"},
          {"prefix": "/small", "upstream": "\(a)", "maxBodyBytes": 1000},
          {"prefix": "/upload", "upstream": "\(a)", "public": true, "maxBodyBytes": 67108864},
          {"prefix": "/pair", "upstreams": ["\(a)", "\(b)"], "public": true},
          {"prefix": "/half-down", "upstreams": ["http://127.0.0.1:10", "\(b)"], "public": true},
          {"prefix": "/breaker", "upstream": "http://127.0.0.1:11", "public": true},
          {"prefix": "/slowpoke", "upstream": "\(a)", "timeoutSeconds": 1},
          {"prefix": "/stall", "upstream": "\(a)", "public": true, "timeoutSeconds": 3},
          {"prefix": "/down", "upstream": "http://127.0.0.1:9", "public": true}
        ]}
        """
    }

    static func start() async throws -> Running {
        let issuer = try await TestIssuer.start()
        let a = try await upstream(name: "a")
        let b = try await upstream(name: "b")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("routes-\(UUID()).json")
        try routes(a.baseURL, b.baseURL).write(to: file, atomically: true, encoding: .utf8)
        let configuration = GatewayConfiguration(
            host: "127.0.0.1", port: 0, routesFile: file.path, jwksURL: "", tokenIssuer: TestEnvironment.issuer,
            tokenAudience: TestEnvironment.audience, logLevel: "error", kafkaBrokers: TestEnvironment.kafkaBrokers,
            corsOrigins: [consoleOrigin], discoveryURL: issuer.discoveryURL)
        let gateway = try await TestServer.start { try buildGateway(configuration, onServerRunning: $0) }
        return Running(url: gateway.baseURL, issuer: issuer, routesFile: file, upstreams: [a.baseURL, b.baseURL])
    }
}

/// The gateway forwards the full path: `/public/echo/x` arrives as `/public/echo/x`.
func echo(_ request: Request, body: String, upstream: String, bytes: Int? = nil) -> Response {
    var fields: [String: String] = ["path": request.uri.string, "body": body, "upstream": upstream]
    if let bytes { fields["bytes"] = String(bytes) }
    for header in request.headers { fields["h:" + header.name.canonicalName] = header.value }
    let data = (try? JSONSerialization.data(withJSONObject: fields)) ?? Data()
    return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
}
