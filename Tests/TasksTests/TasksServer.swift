import Foundation
import TestSupport

@testable import Tasks

/// One tasks service for the suite, trusting a test issuer's JWKS.
struct TasksServer {
    static let shared = TasksServer()
    private let started = StartOnce<(String, TestIssuer)> {
        let issuer = try await TestIssuer.start()
        let configuration = TestEnvironment.configuration("tasks", jwksURL: issuer.jwksURL)
        let server = try await TestServer.start { try tasksHost(configuration).application(onServerRunning: $0) }
        return (server.baseURL, issuer)
    }

    func get() async throws -> (url: String, issuer: TestIssuer) {
        let (url, issuer) = try await started.value()
        return (url, issuer)
    }
}

/// A caller in a fresh tenant.
struct Caller {
    let url: String
    let token: String
    let tenant: UUID

    /// An API client of a new tenant, holding `scope`.
    static func client(scope: String) async throws -> Caller {
        let (url, issuer) = try await TasksServer.shared.get()
        let tenant = UUID.v7()
        return Caller(url: url, token: try await issuer.clientToken(tenant: tenant, scope: scope), tenant: tenant)
    }

    static func fresh(roles: [String] = ["member"]) async throws -> Caller {
        let (url, issuer) = try await TasksServer.shared.get()
        let tenant = UUID.v7()
        return Caller(url: url, token: try await issuer.token(tenant: tenant, roles: roles), tenant: tenant)
    }

    func send(_ method: String, _ path: String, json: Any? = nil, raw: String? = nil, headers: [String: String] = [:]) async throws -> HTTPAnswer {
        try await TestHTTP.send(method, url + path, json: json, raw: raw, token: token, headers: headers)
    }

    func create(_ body: [String: Any] = ["title": "Write the report"]) async throws -> [String: Any] {
        let answer = try await send("POST", "/v1/tasks", json: body)
        guard answer.status == 201 else { throw TaskTestError.status(answer.status, String(decoding: answer.body, as: UTF8.self)) }
        return answer.json
    }
}

enum TaskTestError: Error { case status(Int, String) }
