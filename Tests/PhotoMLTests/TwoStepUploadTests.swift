import Foundation
import TestSupport
import Testing

@testable import PhotoML

@Suite("two-step uploads")
struct TwoStepUploadTests {
    @Test("a ticket presigns a PUT into the bucket; the completed upload is processed, and its thumbnail and presigned image URL follow")
    func presigned() async throws {
        let grower = try await Grower.fresh()
        let (_, _, bench) = try await grower.site()
        let (bytes, _) = try PhotoProcessingTests.fixture()
        let ticket = try await grower.send("POST", "/v1/photo-uploads", json: ["locationId": bench, "bytes": bytes.count])
        #expect(ticket.status == 201)
        #expect(ticket.string("authorization") == "presigned")
        #expect(ticket.string("method") == "PUT")
        let id = try #require(ticket.string("id"))
        let url = try #require(ticket.string("uploadUrl"))
        #expect(url.contains("X-Amz-Signature="))
        #expect(try await grower.send("POST", "/v1/photo-uploads/\(id)/complete").status == 409)  // nothing put yet
        let put = try await TestHTTP.send("PUT", url, bytes: bytes)
        #expect(put.status == 200, "\(String(decoding: put.body, as: UTF8.self))")

        let completed = try await grower.send("POST", "/v1/photo-uploads/\(id)/complete")
        #expect(completed.status == 202)
        let session = try #require(completed.string("id"))
        #expect((completed.json["photos"] as? [[String: Any]])?.first?["id"] as? String == id)
        #expect(try await grower.send("POST", "/v1/photo-uploads/\(id)/complete").status == 409)
        #expect(try await grower.send("GET", "/v1/photo-uploads/\(id)").string("completedSessionId") == session)
        let done = try await PhotoProcessingTests.finished(grower, session)
        #expect(["completed", "completed_with_warnings"].contains(done.string("state") ?? ""))

        let thumbnail = try await grower.send("GET", "/v1/photos/\(id)/thumbnail")
        #expect(thumbnail.status == 200)
        #expect(thumbnail.contentType == "image/jpeg")
        let header = try ImageHeader.read([UInt8](thumbnail.body))
        #expect(max(header.width, header.height) == Thumbnail.longSide)
        let link = try await grower.send("GET", "/v1/photos/\(id)/image-url")
        #expect(link.string("authorization") == "presigned")
        let fetched = try await TestHTTP.send("GET", try #require(link.string("url")))
        #expect([UInt8](fetched.body) == bytes)
        #expect(try await Grower.fresh().send("GET", "/v1/photos/\(id)/thumbnail").status == 404)
        #expect(try await Grower.fresh().send("GET", "/v1/photos/\(id)/image-url").status == 404)
    }

    @Test("bad tickets and bad bytes: 422, 413, 415, 404 across tenants, 403 for viewers; refused bytes go and the upload stays open")
    func refused() async throws {
        let grower = try await Grower.fresh()
        let (warehouse, _, bench) = try await grower.site()
        #expect(try await grower.send("POST", "/v1/photo-uploads", json: ["locationId": bench, "bytes": 0]).status == 422)
        #expect(try await grower.send("POST", "/v1/photo-uploads", json: ["locationId": bench, "bytes": 1 << 30]).status == 413)
        #expect(try await grower.send("POST", "/v1/photo-uploads", json: ["locationId": warehouse, "bytes": 10]).status == 422)
        #expect(try await grower.send("POST", "/v1/photo-uploads", json: ["locationId": UUID().uuidString, "bytes": 10]).status == 422)
        #expect(try await grower.send("POST", "/v1/photo-uploads", json: ["locationId": "nope", "bytes": 10]).status == 422)
        #expect(try await grower.send("POST", "/v1/photo-uploads", json: ["bytes": 10]).status == 422)
        #expect(try await grower.send("POST", "/v1/photo-uploads", json: ["locationId": bench, "bytes": 10, "parts": 21]).status == 422)
        let viewer = try await Grower.fresh(roles: ["viewer"], tenant: grower.tenant)
        #expect(try await viewer.send("POST", "/v1/photo-uploads", json: ["locationId": bench, "bytes": 10]).status == 403)

        let ticket = try await grower.send("POST", "/v1/photo-uploads", json: ["locationId": bench, "bytes": 2000])
        let id = try #require(ticket.string("id"))
        let stranger = try await Grower.fresh()
        #expect(try await stranger.send("GET", "/v1/photo-uploads/\(id)").status == 404)
        #expect(try await stranger.send("POST", "/v1/photo-uploads/\(id)/complete").status == 404)
        #expect(try await stranger.send("PUT", "/v1/photo-uploads/\(id)/content", raw: "x").status == 404)
        #expect(try await grower.send("GET", "/v1/photo-uploads/not-a-uuid").status == 404)

        let url = try #require(ticket.string("uploadUrl"))
        _ = try await TestHTTP.send("PUT", url, bytes: Array("not a photo at all".utf8))
        #expect(try await grower.send("POST", "/v1/photo-uploads/\(id)/complete").status == 415)
        _ = try await TestHTTP.send("PUT", url, bytes: Array(SyntheticImage.png(width: 64, height: 64).prefix(30)))
        #expect(try await grower.send("POST", "/v1/photo-uploads/\(id)/complete").status == 422)
        #expect(try await grower.send("POST", "/v1/photo-uploads/\(id)/complete").status == 409)  // the refused bytes went
        _ = try await TestHTTP.send("PUT", url, bytes: SyntheticImage.png(width: 50_000, height: 50_000, end: false))
        #expect(try await grower.send("POST", "/v1/photo-uploads/\(id)/complete").status == 422)
        _ = try await TestHTTP.send("PUT", url, bytes: SyntheticImage.png(width: 64, height: 64))
        #expect(try await grower.send("POST", "/v1/photo-uploads/\(id)/complete").status == 202)
    }

    @Test("an upload past its expiry is refused, and the expiry job forgets it and its bytes")
    func expires() async throws {
        let grower = try await Grower.fresh()
        let (_, _, bench) = try await grower.site()
        let ticket = try await grower.send("POST", "/v1/photo-uploads", json: ["locationId": bench, "bytes": 2000])
        let id = try #require(ticket.string("id"))
        _ = try await TestHTTP.send("PUT", try #require(ticket.string("uploadUrl")), bytes: SyntheticImage.png(width: 64, height: 64))
        let uploadID = try #require(UUID(uuidString: id))
        _ = try await withDatabase("photoml") { database in
            try await database.withTenant(grower.tenant) { connection in
                try await connection.query(
                    "UPDATE photoml.photo_uploads SET expires_at = now() - interval '1 minute' WHERE id = \(uploadID)", logger: database.logger)
            }
        }
        #expect(try await grower.send("POST", "/v1/photo-uploads/\(id)/complete").status == 409)
        #expect(try await grower.send("PUT", "/v1/photo-uploads/\(id)/content", bytes: SyntheticImage.png(width: 64, height: 64)).status == 409)
        let key = try await withDatabase("photoml") { database in
            try await UploadStore(database: database, sessions: SessionStore(database: database)).expire(uploadID, tenant: grower.tenant)
        }
        #expect(key == PhotoIntake.storageKey(tenant: grower.tenant, photo: uploadID))
        #expect(try await grower.send("GET", "/v1/photo-uploads/\(id)").status == 404)
    }

    @Test("with storage that does not presign, the bytes go through the service with the bearer token")
    func throughTheService() async throws {
        let (_, issuer) = try await PhotoMLServer.shared.get()
        var configuration = PhotoMLConfiguration.forTests(TestEnvironment.configuration("photoml", jwksURL: issuer.jwksURL))
        // A queue of its own: the shared replica keeps photos in the bucket, not in this directory.
        configuration.photoQueue = "photos-files-\(UUID().uuidString.prefix(8))"
        let server = try await TestServer.start { try photoMLHost(configuration).application(onServerRunning: $0) }
        let shared = try await Grower.fresh()
        let grower = Grower(url: server.baseURL, token: shared.token, tenant: shared.tenant, subject: shared.subject)
        let (_, _, bench) = try await grower.site()
        let (bytes, _) = try PhotoProcessingTests.fixture()
        let ticket = try await grower.send("POST", "/v1/photo-uploads", json: ["locationId": bench, "bytes": bytes.count])
        #expect(ticket.string("authorization") == "bearer")
        let path = try #require(ticket.string("uploadUrl"))
        #expect(try await TestHTTP.send("PUT", server.baseURL + path, bytes: bytes).status == 401)
        #expect(try await grower.send("PUT", path, bytes: Array(repeating: 1, count: 3 * 1024 * 1024)).status == 413)
        #expect(try await grower.send("PUT", path, bytes: bytes).status == 204)
        let completed = try await grower.send("POST", "/v1/photo-uploads/\(try #require(ticket.string("id")))/complete")
        #expect(completed.status == 202)
        let done = try await PhotoProcessingTests.finished(grower, try #require(completed.string("id")))
        #expect(["completed", "completed_with_warnings"].contains(done.string("state") ?? ""))
        let photo = try #require(ticket.string("id"))
        #expect(try await grower.send("GET", "/v1/photos/\(photo)/image-url").string("authorization") == "bearer")
        #expect(try await grower.send("GET", "/v1/photos/\(photo)/thumbnail").status == 200)
        await server.stop()
    }
}
