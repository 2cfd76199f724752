import Foundation
import TestSupport
import Testing

@testable import Notifications

@Suite struct APIDocumentTests {
    @Test func everyRouteIsDocumentedAndEveryDocumentedOperationRouted() throws {
        let host = try notificationsHost(NotificationsServer.configuration(jwksURL: "http://127.0.0.1:1/none"))
        try DocumentedRoutes.expectAgreement(host.router, service: "notifications")
    }
}
