import Foundation
@testable import Gateway
import Hummingbird
import TestSupport

/// A gateway in front of an echo upstream that answers with the headers it received.
struct GatewayHarness {
    static let shared = GatewayHarness()
    private let started = StartOnce<(String, TestIssuer)> { try await GatewayHarness.start() }

    func get() async throws -> (url: String, issuer: TestIssuer) {
        let (url, issuer) = try await started.value()
        return (url, issuer)
    }

    static func start() async throws -> (String, TestIssuer) {
        let issuer = try await TestIssuer.start()
        let upstream = try await TestServer.start { onRunning in
            let router = Router()
            router.get("slowpoke") { _, _ -> String in
                try await Task.sleep(for: .seconds(5))
                return "late"
            }
            router.get("**") { request, _ in echo(request, body: "") }
            router.post("**") { request, _ in
                echo(request, body: String(buffer: try await request.body.collect(upTo: 1 << 24)))
            }
            return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                               onServerRunning: { await onRunning($0.localAddress?.port ?? 0) }, logger: TestEnvironment.logger)
        }
        let routes = """
            {"routes": [
              {"prefix": "/public", "upstream": "\(upstream.baseURL)", "public": true},
              {"prefix": "/private", "upstream": "\(upstream.baseURL)"},
              {"prefix": "/slowpoke", "upstream": "\(upstream.baseURL)", "timeoutSeconds": 1},
              {"prefix": "/down", "upstream": "http://127.0.0.1:9", "public": true}
            ]}
            """
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("routes-\(UUID()).json")
        try routes.write(to: file, atomically: true, encoding: .utf8)
        let configuration = GatewayConfiguration(
            host: "127.0.0.1", port: 0, routesFile: file.path, jwksURL: issuer.jwksURL, tokenIssuer: TestEnvironment.issuer,
            tokenAudience: TestEnvironment.audience, logLevel: "error")
        let gateway = try await TestServer.start { try buildGateway(configuration, onServerRunning: $0) }
        return (gateway.baseURL, issuer)
    }
}

/// The gateway forwards the full path: `/public/echo/x` arrives as `/public/echo/x`.
func echo(_ request: Request, body: String) -> Response {
    var fields: [String: String] = ["path": request.uri.string, "body": body]
    for header in request.headers { fields["h:" + header.name.canonicalName] = header.value }
    let data = (try? JSONSerialization.data(withJSONObject: fields)) ?? Data()
    return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
}
