import Foundation
import TestSupport
import Testing

@Suite("brute-force protection")
struct LockoutTests {
    @Test("five wrong passwords lock the account: even the right one then answers 429 with Retry-After, and the audit log shows it")
    func accountLockout() async throws {
        let owner = try await Session.owner()
        for _ in 0..<5 { #expect(try await login(owner.email, "wrong password!!").status == 401) }
        let locked = try await login(owner.email, owner.password)
        #expect(locked.status == 429)
        #expect(locked.contentType == "application/problem+json")
        #expect(Int(locked.headers["retry-after"] ?? "") ?? 0 >= 1)
        let log = try await auth("GET", "/v1/admin/audit-log?action=login.", token: owner.accessToken)
        let actions = (log.json["items"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }
        #expect(actions.filter { $0 == "login.failed" }.count == 5)
        #expect(actions.contains("login.locked"))
    }

    @Test("many failures from one client IP lock that IP for every account")
    func ipLockout() async throws {
        let owner = try await Session.owner()
        let ip = "203.0.113.\(Int.random(in: 1...254))"
        for index in 0..<50 { _ = try await login("nobody-\(index)-\(UUID().uuidString.prefix(6))@example.com", "wrong password!!", ip: ip) }
        #expect(try await login(owner.email, owner.password, ip: ip).status == 429)
        #expect(try await login(owner.email, owner.password).status == 200)
    }

    /// `auth_logins_total{outcome}` as the service's /metrics shows it.
    func logins(_ outcome: String) async throws -> Double {
        let text = String(decoding: try await auth("GET", "/metrics").body, as: UTF8.self)
        let prefix = "auth_logins_total{outcome=\"\(outcome)\"} "
        return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.dropFirst(prefix.count)) } ?? 0
    }

    @Test("logins are counted by outcome for the failed-login alert: failed, succeeded, locked")
    func counted() async throws {
        let owner = try await Session.owner()
        let before = (failed: try await logins("failed"), succeeded: try await logins("succeeded"), locked: try await logins("locked"))
        #expect(try await login(owner.email, "wrong password!!").status == 401)
        #expect(try await login(owner.email, owner.password).status == 200)
        // Other suites log in meanwhile: at least these.
        #expect(try await logins("failed") >= before.failed + 1)
        #expect(try await logins("succeeded") >= before.succeeded + 1)
        for _ in 0..<5 { _ = try await login(owner.email, "wrong password!!") }
        #expect(try await login(owner.email, owner.password).status == 429)
        #expect(try await logins("locked") >= before.locked + 1)
    }
}
