import Foundation
import TestSupport
import Testing

@testable import Experience

@Suite struct APIDocumentTests {
    @Test func everyRouteIsDocumentedAndEveryDocumentedOperationRouted() throws {
        let host = try experienceHost(TestEnvironment.configuration("experience"))
        try DocumentedRoutes.expectAgreement(host.router, service: "experience")
    }

    @Test func theDocumentIsServedUnderTheGatewayPrefixWithoutAToken() async throws {
        let (url, _) = try await ExperienceServer.shared.get()
        let answer = try await TestHTTP.send("GET", url + "/v1/experience/openapi.json")
        #expect(answer.status == 200)
        #expect(answer.json["openapi"] as? String == "3.1.0")
        #expect((answer.json["paths"] as? [String: Any])?["/v1/experience/home"] != nil)
    }
}
