import Foundation
import TestSupport
import Testing

@testable import Search

/// API clients reach a route group only with the scope the table names.
@Suite("API client scopes (search)")
struct SearchClientScopeTests {
    @Test("every route group refuses a client without its scope, and serves one with it", arguments: ClientAccess.table.map(\.route))
    func table(_ route: String) async throws {
        let (url, issuer) = try await SearchServer.shared.get()
        let scopes = try #require(ClientAccess.table.first { $0.route == route }?.scopes)
        let parts = route.split(separator: " ").map(String.init)
        let tenant = UUID.v7()
        let stranger = try await issuer.clientToken(tenant: tenant, scope: "tasks:read tasks:write")
        #expect(try await TestHTTP.send(parts[0], "\(url)\(parts[1])?q=x", json: [:], token: stranger).status == 403)
        let holder = try await issuer.clientToken(tenant: tenant, scope: scopes.read ?? "search:read")
        let answer = try await TestHTTP.send(parts[0], "\(url)\(parts[1])?q=x", token: holder)
        #expect(answer.status == (scopes.read == nil ? 403 : 200))
    }
}
