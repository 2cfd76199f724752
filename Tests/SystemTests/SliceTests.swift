import Foundation
import ServiceKit
import TestSupport
import Testing

@testable import Auth
@testable import Campaigns
@testable import Experience
@testable import Gateway
@testable import Notifications
@testable import PhotoML
@testable import Search
@testable import Tasks

/// Auth, tasks and search behind a gateway, all on free ports, talking over real HTTP
/// and the test broker, as `make run` wires them.
struct Stack {
    struct Running: Sendable {
        var gateway: String
        var tasks: String
        var jwks: String
    }

    static let shared = Stack()
    private let running = StartOnce<Running> { try await Stack.start() }

    func url() async throws -> String { try await running.value().gateway }

    func services() async throws -> Running { try await running.value() }

    static func start() async throws -> Running {
        let auth = try await TestServer.start { onRunning in
            try authHost(
                AuthConfiguration(
                    service: TestEnvironment.configuration("auth"), keyEncryptionKey: Array(repeating: 0x4B, count: 32),
                    refreshTokenSecret: Array(repeating: 0x52, count: 32))
            ).application(onServerRunning: onRunning)
        }
        let jwks = "\(auth.baseURL)/.well-known/jwks.json"
        let tasks = try await TestServer.start {
            try tasksHost(TestEnvironment.configuration("tasks", jwksURL: jwks)).application(onServerRunning: $0)
        }
        let search = try await TestServer.start {
            try searchHost(TestEnvironment.configuration("search", jwksURL: jwks)).application(onServerRunning: $0)
        }
        let routes = """
            {"routes": [
              {"prefix": "/v1/auth/signup", "upstream": "\(auth.baseURL)", "public": true},
              {"prefix": "/v1/auth/login", "upstream": "\(auth.baseURL)", "public": true},
              {"prefix": "/v1/auth/refresh", "upstream": "\(auth.baseURL)", "public": true},
              {"prefix": "/v1/auth", "upstream": "\(auth.baseURL)"},
              {"prefix": "/.well-known", "upstream": "\(auth.baseURL)", "public": true},
              {"prefix": "/v1/tasks", "upstream": "\(tasks.baseURL)"},
              {"prefix": "/v1/search", "upstream": "\(search.baseURL)"}
            ]}
            """
        let gateway = try await startGateway(routes: routes, jwks: jwks)
        return Running(gateway: gateway, tasks: tasks.baseURL, jwks: jwks)
    }

    /// A gateway with this route table, trusting `jwks`.
    static func startGateway(routes: String, jwks: String) async throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("routes-\(UUID()).json")
        try routes.write(to: file, atomically: true, encoding: .utf8)
        return try await TestServer.start { onRunning in
            try buildGateway(
                GatewayConfiguration(
                    host: "127.0.0.1", port: 0, routesFile: file.path, jwksURL: jwks, tokenIssuer: TestEnvironment.issuer,
                    tokenAudience: TestEnvironment.audience, logLevel: "error"), onServerRunning: onRunning)
        }.baseURL
    }
}

/// Signs up a fresh user and tenant through the gateway.
func signUp(_ gateway: String, name: String, tenant: String) async throws -> HTTPAnswer {
    try await TestHTTP.send(
        "POST", "\(gateway)/v1/auth/signup",
        json: [
            "email": "\(name.lowercased())-\(UUID().uuidString.prefix(8))@example.com", "password": "a long enough password",
            "name": name, "tenantName": tenant,
        ])
}

@Suite("the platform through its gateway")
struct SliceTests {
    @Test("sign up, create a task, and find it with search within seconds")
    func signupTaskSearch() async throws {
        let gateway = try await Stack.shared.url()
        let signup = try await signUp(gateway, name: "Grace", tenant: "Hopper Labs")
        #expect(signup.status == 201)
        let token = try #require(signup.string("accessToken"))
        let created = try await TestHTTP.send(
            "POST", "\(gateway)/v1/tasks",
            json: [
                "title": "Calibrate the flux capacitor", "description": "Before the demo on Friday", "tags": ["lab"],
            ], token: token)
        #expect(created.status == 201)
        let id = try #require(created.string("id"))
        let found = try await eventually(timeout: .seconds(30)) {
            let answer = try await TestHTTP.send("GET", "\(gateway)/v1/search?q=flux%20capacitor", token: token)
            let hits = answer.json["hits"] as? [[String: Any]] ?? []
            return hits.contains { ($0["id"] as? String)?.lowercased() == id.lowercased() }
        }
        #expect(found)

        // Another tenant neither reads the task nor finds it.
        let other = try await signUp(gateway, name: "Mallory", tenant: "Elsewhere")
        let otherToken = try #require(other.string("accessToken"))
        #expect(try await TestHTTP.send("GET", "\(gateway)/v1/tasks/\(id)", token: otherToken).status == 404)
        let theirs = try await TestHTTP.send("GET", "\(gateway)/v1/search?q=flux%20capacitor", token: otherToken)
        #expect((theirs.json["hits"] as? [Any])?.isEmpty == true)

        // An update reaches the index too.
        _ = try await TestHTTP.send("PATCH", "\(gateway)/v1/tasks/\(id)", json: ["title": "Calibrate the time circuits"], token: token)
        #expect(
            try await eventually(timeout: .seconds(30)) {
                let answer = try await TestHTTP.send("GET", "\(gateway)/v1/search?q=time%20circuits", token: token)
                return (answer.json["hits"] as? [Any])?.count == 1
            })
    }

    @Test("a refreshed session keeps working through the gateway; a forged token does not")
    func sessions() async throws {
        let gateway = try await Stack.shared.url()
        let signup = try await signUp(gateway, name: "Linus", tenant: "Kernel")
        let refreshed = try await TestHTTP.send("POST", "\(gateway)/v1/auth/refresh", json: ["refreshToken": signup.string("refreshToken") ?? ""])
        #expect(refreshed.status == 200)
        let me = try await TestHTTP.send("GET", "\(gateway)/v1/auth/me", token: refreshed.string("accessToken"))
        #expect(me.status == 200)
        #expect(try await TestHTTP.send("GET", "\(gateway)/v1/tasks", token: "eyJhbGciOiJub25lIn0.e30.").status == 401)
    }

    @Test("experience starts on its own, migrates and reports ready", arguments: ["experience"])
    func skeletons(service: String) async throws {
        let configuration = TestEnvironment.configuration(service)
        let server = try await TestServer.start { try experienceHost(configuration).application(onServerRunning: $0) }
        #expect(try await eventually(timeout: .seconds(20)) { try await TestHTTP.send("GET", "\(server.baseURL)/readyz").status == 200 })
        #expect(try await TestHTTP.send("GET", "\(server.baseURL)/healthz").status == 200)
        let metrics = try await TestHTTP.send("GET", "\(server.baseURL)/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.headers["content-type"]?.hasPrefix("text/plain") == true)
        await server.stop()
    }
}
