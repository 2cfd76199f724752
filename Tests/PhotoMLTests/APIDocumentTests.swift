import Foundation
import TestSupport
import Testing

@testable import PhotoML

@Suite struct APIDocumentTests {
    @Test func everyRouteIsDocumentedAndEveryDocumentedOperationRouted() throws {
        let host = try photoMLHost(.forTests(TestEnvironment.configuration("photoml")))
        try DocumentedRoutes.expectAgreement(host.router, service: "photoml")
    }

    @Test func theDocumentIsServedUnderTheGatewayPrefixWithoutAToken() async throws {
        let (url, _) = try await PhotoMLServer.shared.get()
        let answer = try await TestHTTP.send("GET", url + "/v1/photoml/openapi.json")
        #expect(answer.status == 200)
        #expect(answer.json["openapi"] as? String == "3.1.0")
        #expect((answer.json["paths"] as? [String: Any])?["/v1/inventory/stock/{id}/movements"] != nil)
    }
}
