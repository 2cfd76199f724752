@testable import Auth
import Foundation
import ServiceKit
import TestSupport

/// One auth service for the suite, on a free port, with a short refresh grace window.
struct AuthServer {
    static let shared = AuthServer()
    static let graceSeconds = 2
    private let server = StartOnce<TestServer> {
        let configuration = AuthConfiguration(
            service: TestEnvironment.configuration("auth"),
            // Fixed, because signing keys sealed by one test run are read by the next.
            keyEncryptionKey: Array(repeating: 0x4B, count: 32),
            refreshTokenSecret: Array(repeating: 0x52, count: 32),
            refreshGraceSeconds: Self.graceSeconds)
        return try await TestServer.start { try buildAuth(configuration, onServerRunning: $0) }
    }

    func url() async throws -> String { try await server.value().baseURL }
}

func uniqueEmail() -> String { "user-\(UUID().uuidString.prefix(12).lowercased())@example.com" }

/// Signs up a fresh user and tenant; returns the token response.
func signUp(email: String = uniqueEmail(), password: String = "correct horse battery") async throws -> HTTPAnswer {
    try await TestHTTP.send("POST", "\(try await AuthServer.shared.url())/v1/auth/signup",
                            json: ["email": email, "password": password, "name": "Ada", "tenantName": "Acme \(UUID().uuidString.prefix(6))"])
}
