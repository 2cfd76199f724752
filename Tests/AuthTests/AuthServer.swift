import Contracts
import Foundation
import ServiceKit
import TestSupport
import Testing

@testable import Auth

/// One auth service for the suite, on a free port, with a short refresh grace window.
struct AuthServer {
    static let shared = AuthServer()
    static let graceSeconds = 5
    static let spaRedirect = "http://localhost:3000/auth/callback"
    static let keyEncryptionKey = [UInt8](repeating: 0x4B, count: 32)
    private let server = StartOnce<TestServer> {
        let configuration = AuthConfiguration(
            service: TestEnvironment.configuration("auth"),
            // Fixed, because signing keys sealed by one test run are read by the next.
            keyEncryptionKey: Self.keyEncryptionKey,
            refreshTokenSecret: Array(repeating: 0x52, count: 32),
            refreshGraceSeconds: Self.graceSeconds,
            keyReloadSeconds: 1,
            redirectURIs: [Self.spaRedirect],
            oauthProviders: [
                OAuthProviderConfiguration(
                    name: "google", kind: .openID(issuer: TestEnvironment.oidcIssuer), clientID: "platform-test", clientSecret: "s3cret")
            ])
        return try await TestServer.start { try authHost(configuration).application(onServerRunning: $0) }
    }

    func url() async throws -> String { try await server.value().baseURL }
}

func uniqueEmail() -> String { "user-\(UUID().uuidString.prefix(12).lowercased())@example.com" }

/// Signs up a fresh user and tenant; returns the token response.
func signUp(email: String = uniqueEmail(), password: String = "correct horse battery") async throws -> HTTPAnswer {
    try await TestHTTP.send(
        "POST", "\(try await AuthServer.shared.url())/v1/auth/signup",
        json: ["email": email, "password": password, "name": "Ada", "tenantName": "Acme \(UUID().uuidString.prefix(6))"])
}

/// A signed-up user's tokens and ids.
struct Session {
    var accessToken: String
    var refreshToken: String
    var userID: String
    var tenantID: String
    var tenantSlug: String
    var email: String
    var password: String

    init(_ answer: HTTPAnswer, email: String, password: String) throws {
        let user = try #require(answer.json["user"] as? [String: Any])
        let tenant = try #require(answer.json["tenant"] as? [String: Any])
        accessToken = try #require(answer.string("accessToken"))
        refreshToken = try #require(answer.string("refreshToken"))
        userID = try #require(user["id"] as? String).lowercased()
        tenantID = try #require(tenant["id"] as? String).lowercased()
        tenantSlug = try #require(tenant["slug"] as? String)
        self.email = email
        self.password = password
    }

    /// A fresh user who owns a fresh tenant.
    static func owner() async throws -> Session {
        let email = uniqueEmail()
        let answer = try await signUp(email: email)
        #expect(answer.status == 201)
        return try Session(answer, email: email, password: "correct horse battery")
    }
}

/// A request to the shared auth server.
func auth(_ method: String, _ path: String, json: Any? = nil, token: String? = nil, headers: [String: String] = [:]) async throws -> HTTPAnswer {
    try await TestHTTP.send(method, "\(try await AuthServer.shared.url())\(path)", json: json, token: token, headers: headers)
}

func login(
    _ email: String, _ password: String, tenant: String? = nil, ip: String = "198.51.100.\(Int.random(in: 1...254))"
) async throws -> HTTPAnswer {
    var body = ["email": email, "password": password]
    if let tenant { body["tenant"] = tenant }
    return try await auth("POST", "/v1/auth/login", json: body, headers: ["X-Forwarded-For": ip])
}

/// The token of the newest email request `template` for `email`, read from auth's outbox
/// (the relay publishes the same row to `notifications.request.v1`).
/// Every email command auth has published, read from the broker as notifications reads it
/// (the outbox keeps no payload of these once sent: they carry one-time tokens).
let emailCommands: TopicReader = {
    do {
        return try TopicReader(topic: Topics.notificationsRequest.name)
    } catch {
        fatalError("cannot read \(Topics.notificationsRequest.name): \(error)")
    }
}()

func mailedToken(_ template: String, to email: String) async throws -> String {
    let found = try await emailCommands.first(timeout: .seconds(30)) { message in
        guard let json = try? JSONSerialization.jsonObject(with: Data(message.value)) as? [String: Any] else { return false }
        let recipient = json["recipient"] as? [String: Any]
        return json["templateKey"] as? String == template && (recipient?["email"] as? String)?.lowercased() == email.lowercased()
    }
    guard let found, let json = try JSONSerialization.jsonObject(with: Data(found.value)) as? [String: Any],
        let token = (json["data"] as? [String: String])?["token"]
    else {
        Issue.record("no \(template) email for \(email)")
        throw CancellationError()
    }
    return token
}

/// Signs in the platform operator created at start-up, in the platform tenant.
func operatorToken() async throws -> String {
    let answer = try await login("operator@example.com", "operator-password-dev", tenant: "platform")
    #expect(answer.status == 200)
    return try #require(answer.string("accessToken"))
}

/// Invites `email` into `owner`'s tenant with `role` and accepts as a new user.
func addMember(to owner: Session, role: String = "member") async throws -> Session {
    let email = uniqueEmail()
    let invited = try await auth("POST", "/v1/admin/invitations", json: ["email": email, "role": role], token: owner.accessToken)
    #expect(invited.status == 201)
    let token = try await mailedToken("auth.invitation", to: email)
    let accepted = try await auth(
        "POST", "/v1/auth/invitations/accept", json: ["token": token, "name": "Grace", "password": "another good passphrase"])
    #expect(accepted.status == 200)
    return try Session(accepted, email: email, password: "another good passphrase")
}
