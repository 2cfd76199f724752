import Foundation
import TestSupport
import Testing

@testable import Search

@Suite struct APIDocumentTests {
    @Test func everyRouteIsDocumentedAndEveryDocumentedOperationRouted() throws {
        let host = try searchHost(TestEnvironment.configuration("search"))
        try DocumentedRoutes.expectAgreement(host.router, service: "search")
    }
}
