import Foundation
import TestSupport
import Testing

@testable import Auth

@Suite struct APIDocumentTests {
    @Test func everyRouteIsDocumentedAndEveryDocumentedOperationRouted() throws {
        let host = try authHost(
            AuthConfiguration(
                service: TestEnvironment.configuration("auth"), keyEncryptionKey: AuthServer.keyEncryptionKey,
                refreshTokenSecret: Array(repeating: 0x52, count: 32)))
        try DocumentedRoutes.expectAgreement(host.router, service: "auth")
    }
}
