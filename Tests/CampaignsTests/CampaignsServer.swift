import Foundation
import ServiceKit
import TestSupport

@testable import Campaigns

/// One campaigns service for the suite, trusting a test issuer's JWKS.
struct CampaignsServer {
    static let shared = CampaignsServer()
    private let started = StartOnce<(String, TestIssuer)> {
        let issuer = try await TestIssuer.start()
        let configuration = try CampaignsConfiguration.forTests(TestEnvironment.configuration("campaigns", jwksURL: issuer.jwksURL))
        let server = try await TestServer.start { try campaignsHost(configuration).application(onServerRunning: $0) }
        return (server.baseURL, issuer)
    }

    func get() async throws -> (url: String, issuer: TestIssuer) { try await started.value() }
}

/// A caller in a fresh tenant (or, with `tenant`, another caller of the same one).
struct Marketer {
    let url: String
    let token: String
    let tenant: UUID

    static func fresh(roles: [String] = ["member"], tenant: UUID = .v7()) async throws -> Marketer {
        let (url, issuer) = try await CampaignsServer.shared.get()
        return Marketer(url: url, token: try await issuer.token(tenant: tenant, roles: roles), tenant: tenant)
    }

    func send(_ method: String, _ path: String, json: Any? = nil, raw: String? = nil, headers: [String: String] = [:]) async throws -> HTTPAnswer {
        try await TestHTTP.send(method, url + path, json: json, raw: raw, token: token, headers: headers)
    }

    /// POSTs `body` and answers the new resource's id; anything but 201 throws.
    func create(_ path: String, _ body: [String: Any]) async throws -> String {
        let answer = try await send("POST", path, json: body)
        guard answer.status == 201, let id = answer.string("id") else {
            throw CampaignsTestError.status(answer.status, String(decoding: answer.body, as: UTF8.self))
        }
        return id
    }

    /// The tenant's own sender address.
    var sender: String { "news-\(tenant.uuidString.suffix(12).lowercased())@acme.test" }

    /// Adds the tenant's sender address and follows the link emailed to it, as its owner would.
    func verifySender() async throws {
        let (url, issuer) = try await CampaignsServer.shared.get()
        let owner = Marketer(url: url, token: try await issuer.token(tenant: tenant, roles: ["owner"]), tenant: tenant)
        let added = try await owner.send("POST", "/v1/admin/campaigns/senders", json: ["email": sender])
        guard added.status == 201 || added.status == 200 else {
            throw CampaignsTestError.status(added.status, String(decoding: added.body, as: UTF8.self))
        }
        guard let mail = try await Mailbox.first(to: sender, timeout: .seconds(30)), let text = mail.parts["text/plain"],
            let line = text.split(separator: "\n").first(where: { $0.contains("/v1/campaigns/t/verify-sender/") }),
            let path = line.range(of: "/v1/campaigns/t/")
        else { throw CampaignsTestError.status(0, "no verification email for \(sender)") }
        _ = try await TestHTTP.send("GET", url + line[path.lowerBound...].trimmingCharacters(in: .whitespaces))
    }

    func subscriber(_ email: String, name: String = "", attributes: [String: Any] = [:], lists: [String] = []) async throws -> String {
        try await create("/v1/campaigns/subscribers", ["email": email, "name": name, "attributes": attributes, "lists": lists])
    }
}

enum CampaignsTestError: Error { case status(Int, String) }

extension CampaignsConfiguration {
    /// Mail to the test SMTP server, links to the gateway's usual address, a fixed secret.
    static func forTests(_ service: ServiceConfiguration) throws -> Self {
        try CampaignsConfiguration.settings(service: service, Environment(["CAMPAIGNS_SMTP_URL": TestEnvironment.smtpURL]))
    }
}
