import Foundation
import Messaging
import ServiceKit
import TestSupport
import Testing

@testable import Gateway

@Suite struct APIDocumentTests {
    @Test func everyRouteOfTheGatewayItselfIsDocumentedAndEveryDocumentedOperationRouted() throws {
        let verifier = TokenVerifier(
            jwksURL: "http://127.0.0.1:1/none", issuer: TestEnvironment.issuer, audience: TestEnvironment.audience, logger: TestEnvironment.logger)
        let router = try gatewayRouter(verifier: verifier, tenants: TenantDirectory(), usage: UsageCounters(), readiness: Readiness())
        try DocumentedRoutes.expectAgreement(router, service: "gateway")
    }
}
