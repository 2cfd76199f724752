import Foundation
import TestSupport
import Testing

@testable import PhotoML

@Suite("photo storage outage")
struct StorageOutageTests {
    @Test("with the bucket unreachable, uploads answer 503 with Retry-After and record nothing; what is recorded stays readable")
    func bucketDown() async throws {
        let (_, issuer) = try await PhotoMLServer.shared.get()
        var configuration = PhotoMLConfiguration.forTests(TestEnvironment.configuration("photoml", jwksURL: issuer.jwksURL))
        // Nothing listens on the discard port of loopback.
        configuration.s3 = .init(
            endpoint: try #require(URL(string: "http://127.0.0.1:9")), bucket: "photos", region: "us-east-1", accessKey: "testing",
            secretKey: "testing", timeoutSeconds: 2)
        configuration.photoQueue = "photos-outage-\(UUID().uuidString.prefix(8))"
        let server = try await TestServer.start { try photoMLHost(configuration).application(onServerRunning: $0) }
        let shared = try await Grower.fresh()
        let grower = Grower(url: server.baseURL, token: shared.token, tenant: shared.tenant, subject: shared.subject)
        let (_, _, bench) = try await grower.site()
        let image = SyntheticImage.png(width: 64, height: 64)

        let refused = try await grower.upload(image, fields: ["locationId": bench], contentType: "image/png")
        #expect(refused.status == 503)
        #expect(refused.headers["retry-after"] == "5")
        #expect(refused.contentType == "application/problem+json")
        #expect(try await grower.send("GET", "/v1/photo-sessions?locationId=\(bench)").items.isEmpty)

        let ticket = try await grower.send("POST", "/v1/photo-uploads", json: ["locationId": bench, "bytes": image.count])
        #expect(ticket.status == 201)
        let id = try #require(ticket.string("id"))
        #expect(try await grower.send("PUT", "/v1/photo-uploads/\(id)/content", bytes: image).status == 503)
        #expect(try await grower.send("POST", "/v1/photo-uploads/\(id)/complete").status == 503)
        #expect(try await grower.send("GET", "/v1/photo-uploads/\(id)").string("completedSessionId") == nil)
        await server.stop()
    }
}
