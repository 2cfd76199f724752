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
}
