import Foundation
import TestSupport
import Testing

@testable import Tasks

@Suite struct APIDocumentTests {
    @Test func everyRouteIsDocumentedAndEveryDocumentedOperationRouted() throws {
        let host = try tasksHost(TestEnvironment.configuration("tasks"))
        try DocumentedRoutes.expectAgreement(host.router, service: "tasks")
    }

    @Test func theDocumentIsServedUnderTheGatewayPrefixWithoutAToken() async throws {
        let (url, _) = try await TasksServer.shared.get()
        let answer = try await TestHTTP.send("GET", url + "/v1/tasks/openapi.json")
        #expect(answer.status == 200)
        #expect(answer.json["openapi"] as? String == "3.1.0")
        #expect((answer.json["paths"] as? [String: Any])?["/v1/tasks/{id}"] != nil)
    }
}
