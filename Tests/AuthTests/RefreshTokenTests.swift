import Foundation
import TestSupport
import Testing

func refresh(_ token: String) async throws -> HTTPAnswer {
    try await TestHTTP.send("POST", "\(try await AuthServer.shared.url())/v1/auth/refresh", json: ["refreshToken": token])
}

@Suite("refresh-token rotation")
struct RefreshTokenTests {
    @Test("a refresh returns a new pair and spends the old refresh token")
    func rotates() async throws {
        let first = try #require(try await signUp().string("refreshToken"))
        let answer = try await refresh(first)
        #expect(answer.status == 200)
        let second = try #require(answer.string("refreshToken"))
        #expect(second != first)
        #expect(try await refresh(second).status == 200)
    }

    @Test("presenting the just-spent token inside the grace window returns the same successor")
    func grace() async throws {
        let first = try #require(try await signUp().string("refreshToken"))
        let a = try await refresh(first)
        let b = try await refresh(first)
        #expect(a.status == 200 && b.status == 200)
        #expect(a.string("refreshToken") == b.string("refreshToken"))
    }

    @Test("concurrent refreshes of one token yield exactly one successor")
    func concurrent() async throws {
        let first = try #require(try await signUp().string("refreshToken"))
        let answers = try await withThrowingTaskGroup(of: HTTPAnswer.self) { group in
            for _ in 0..<6 { group.addTask { try await refresh(first) } }
            return try await group.reduce(into: [HTTPAnswer]()) { $0.append($1) }
        }
        #expect(answers.allSatisfy { $0.status == 200 })
        #expect(Set(answers.compactMap { $0.string("refreshToken") }).count == 1)
    }

    @Test("a spent token presented after the grace window revokes the whole family")
    func reuseRevokesFamily() async throws {
        let first = try #require(try await signUp().string("refreshToken"))
        let successor = try #require(try await refresh(first).string("refreshToken"))
        try await Task.sleep(for: .seconds(AuthServer.graceSeconds + 1))
        #expect(try await refresh(first).status == 401)
        #expect(try await refresh(successor).status == 401)
    }

    @Test("a token that is not one of ours answers 401, not 500")
    func garbage() async throws {
        for token in ["", "abc", String(repeating: "A", count: 64), String(repeating: "x", count: 5000)] {
            #expect(try await refresh(token).status == 401)
        }
        let missing = try await TestHTTP.send("POST", "\(try await AuthServer.shared.url())/v1/auth/refresh", json: ["token": "x"])
        #expect(missing.status == 422)
    }
}
