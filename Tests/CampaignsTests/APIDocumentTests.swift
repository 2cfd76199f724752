import Foundation
import TestSupport
import Testing

@testable import Campaigns

@Suite struct APIDocumentTests {
    @Test func everyRouteIsDocumentedAndEveryDocumentedOperationRouted() throws {
        let host = try campaignsHost(try .forTests(TestEnvironment.configuration("campaigns")))
        try DocumentedRoutes.expectAgreement(host.router, service: "campaigns")
    }

    @Test func theDocumentIsServedUnderTheGatewayPrefixWithoutAToken() async throws {
        let (url, _) = try await CampaignsServer.shared.get()
        let answer = try await TestHTTP.send("GET", url + "/v1/campaigns/openapi.json")
        #expect(answer.status == 200)
        #expect(answer.json["openapi"] as? String == "3.1.0")
        #expect((answer.json["paths"] as? [String: Any])?["/v1/campaigns/templates/{id}/preview"] != nil)
    }
}
