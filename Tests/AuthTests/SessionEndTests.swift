import Foundation
import TestSupport
import Testing

@Suite("logout")
struct SessionEndTests {
    @Test("logout revokes the token's family: neither it nor its successor refreshes afterwards")
    func logout() async throws {
        let owner = try await Session.owner()
        let successor = try #require(try await refresh(owner.refreshToken).string("refreshToken"))
        #expect(try await auth("POST", "/v1/auth/logout", json: ["refreshToken": successor]).status == 204)
        #expect(try await refresh(successor).status == 401)
    }

    @Test("logout with a token that is not ours answers 401, with no body 400")
    func logoutBadInput() async throws {
        #expect(try await auth("POST", "/v1/auth/logout", json: ["refreshToken": "nope"]).status == 401)
        #expect(try await auth("POST", "/v1/auth/logout", json: ["refreshToken": String(repeating: "A", count: 64)]).status == 401)
        let base = try await AuthServer.shared.url()
        #expect(try await TestHTTP.send("POST", "\(base)/v1/auth/logout", raw: "{").status == 400)
    }

    @Test("logout-all revokes every session of the user, in every tenant")
    func logoutAll() async throws {
        let owner = try await Session.owner()
        let second = try #require(try await login(owner.email, owner.password).string("refreshToken"))
        #expect(try await auth("POST", "/v1/auth/logout-all", token: owner.accessToken).status == 204)
        #expect(try await refresh(owner.refreshToken).status == 401)
        #expect(try await refresh(second).status == 401)
        #expect(try await auth("POST", "/v1/auth/logout-all").status == 401)
    }
}
