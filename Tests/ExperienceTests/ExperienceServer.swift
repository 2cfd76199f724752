import Foundation
import ServiceKit
import TestSupport

@testable import Experience

/// One experience service for the suite, trusting a test issuer's JWKS.
struct ExperienceServer {
    static let shared = ExperienceServer()
    private let started = StartOnce<(String, TestIssuer)> {
        // Feeds come from a server on loopback here; a hanging one is given up on in 6 s (a busy
        // whole-suite run took over 2 s to answer a healthy one).
        for (name, value) in ["FEEDS_ALLOW_LOOPBACK": "true", "FEEDS_TIMEOUT_SECONDS": "6", "FEEDS_HOST_GAP_MS": "0", "FEEDS_MAX_BYTES": "262144"] {
            setenv(name, value, 1)
        }
        let issuer = try await TestIssuer.start()
        let configuration = TestEnvironment.configuration("experience", jwksURL: issuer.jwksURL)
        let server = try await TestServer.start { try experienceHost(configuration).application(onServerRunning: $0) }
        return (server.baseURL, issuer)
    }

    func get() async throws -> (url: String, issuer: TestIssuer) { try await started.value() }

    /// A second replica beside the first, trusting the same issuer: its own cache.
    static let replica = StartOnce<String> {
        let (_, issuer) = try await ExperienceServer.shared.get()
        let configuration = TestEnvironment.configuration("experience", jwksURL: issuer.jwksURL)
        return try await TestServer.start { try experienceHost(configuration).application(onServerRunning: $0) }.baseURL
    }
}

/// A caller in a fresh tenant (or, with `tenant`, another caller of the same one).
struct Reader {
    let url: String
    let token: String
    let tenant: UUID
    /// The user's key as events record it (the token's subject); nil for an API client.
    let userKey: String?

    static func fresh(roles: [String] = ["member"], tenant: UUID = .v7()) async throws -> Reader {
        let (url, issuer) = try await ExperienceServer.shared.get()
        let user = UUID.v7()
        return Reader(
            url: url, token: try await issuer.token(tenant: tenant, subject: user, roles: roles), tenant: tenant,
            userKey: user.uuidString.lowercased())
    }

    static func client(scope: String, tenant: UUID = .v7()) async throws -> Reader {
        let (url, issuer) = try await ExperienceServer.shared.get()
        return Reader(url: url, token: try await issuer.clientToken(tenant: tenant, scope: scope), tenant: tenant, userKey: nil)
    }

    func send(_ method: String, _ path: String, json: Any? = nil, raw: String? = nil, headers: [String: String] = [:]) async throws -> HTTPAnswer {
        try await TestHTTP.send(method, url + path, json: json, raw: raw, token: token, headers: headers)
    }

    /// PUTs an item; anything but 201 or 200 throws.
    @discardableResult
    func item(_ key: String, _ body: [String: Any] = [:]) async throws -> HTTPAnswer {
        var body = body
        if body["title"] == nil { body["title"] = "Item \(key)" }
        let answer = try await send("PUT", "/v1/experience/items/\(key)", json: body)
        guard answer.status == 201 || answer.status == 200 else {
            throw ExperienceTestError.status(answer.status, String(decoding: answer.body, as: UTF8.self))
        }
        return answer
    }
}

enum ExperienceTestError: Error { case status(Int, String) }

/// A timestamp as clients send it.
func stamp(_ date: Date = Date()) -> String {
    ISO8601DateFormatter().string(from: date)
}
