import Foundation
import TestSupport
import Testing

@Suite("photo uploads")
struct PhotoUploadTests {
    @Test("a PNG upload answers 202 with a pending session; the photo's size is read from its header and its bytes come back as stored")
    func upload() async throws {
        let grower = try await Grower.fresh()
        let (_, _, bench) = try await grower.site()
        let product = try await grower.create("/v1/inventory/products", ["species": "Lavandula"])
        let image = SyntheticImage.png(width: 4000, height: 3000)
        let answer = try await grower.upload(
            image, fields: ["locationId": bench, "productId": product], filename: "bench.png", contentType: "image/png")
        #expect(answer.status == 202)
        #expect(answer.string("state") == "pending")
        #expect(answer.string("productId") == product)
        #expect(answer.json["duplicate"] as? Bool == false)
        let session = try #require(answer.string("id"))
        #expect(answer.headers["location"] == "/v1/photo-sessions/\(session)")
        let photo = try #require((answer.json["photos"] as? [[String: Any]])?.first)
        #expect(photo["width"] as? Int == 4000)
        #expect(photo["height"] as? Int == 3000)
        #expect(photo["contentType"] as? String == "image/png")
        #expect(photo["bytes"] as? Int == image.count)
        #expect((photo["sha256"] as? String)?.count == 64)
        let photoID = try #require(photo["id"] as? String)
        let stored = try await grower.send("GET", "/v1/photos/\(photoID)/image")
        #expect(stored.status == 200)
        #expect(stored.contentType == "image/png")
        #expect([UInt8](stored.body) == image)
        #expect(try await grower.send("GET", "/v1/photos/\(photoID)").json["sessionId"] as? String == session)
        #expect(try await grower.send("GET", "/v1/photo-sessions/\(session)").string("locationId") == bench)
        #expect(try await grower.send("GET", "/v1/photo-sessions?locationId=\(bench)").items.count == 1)
    }

    @Test("a JPEG's EXIF orientation is read: a quarter-turned photo is upright as 3000 × 4000")
    func orientation() async throws {
        let grower = try await Grower.fresh()
        let (_, _, bench) = try await grower.site()
        let answer = try await grower.upload(SyntheticImage.jpeg(width: 4000, height: 3000, orientation: 6), fields: ["locationId": bench])
        #expect(answer.status == 202)
        let photo = try #require((answer.json["photos"] as? [[String: Any]])?.first)
        #expect(photo["orientation"] as? Int == 6)
        #expect(photo["uprightWidth"] as? Int == 3000)
        #expect(photo["uprightHeight"] as? Int == 4000)
        #expect(photo["contentType"] as? String == "image/jpeg")
    }

    @Test("the same bytes twice for one location are recognised; for another location they are a new photo")
    func duplicates() async throws {
        let grower = try await Grower.fresh()
        let (_, area, bench) = try await grower.site()
        let other = try await grower.create("/v1/inventory/locations", ["kind": "location", "name": "Bench 8", "parentId": area])
        let image = SyntheticImage.jpeg(width: 2000, height: 1500, seed: 9)
        let first = try await grower.upload(image, fields: ["locationId": bench])
        let firstPhoto = try #require((first.json["photos"] as? [[String: Any]])?.first?["id"] as? String)
        let again = try await grower.upload(image, fields: ["locationId": bench])
        #expect(again.status == 202)
        #expect(again.json["duplicate"] as? Bool == true)
        #expect((again.json["photos"] as? [[String: Any]])?.first?["duplicateOf"] as? String == firstPhoto)
        let elsewhere = try await grower.upload(image, fields: ["locationId": other])
        #expect(elsewhere.json["duplicate"] as? Bool == false)
    }

    @Test("a session started for 3 parts takes more photos of its location up to that, then completes; other parts are refused")
    func parts() async throws {
        let grower = try await Grower.fresh()
        let (_, area, bench) = try await grower.site()
        let other = try await grower.create("/v1/inventory/locations", ["kind": "location", "name": "Bench 8", "parentId": area])
        // Real photos (they decode), so the session waits for its parts rather than failing.
        let photo = try PhotoDecoderTests.bytes("sideways.jpg")
        let first = try await grower.upload(photo, fields: ["locationId": bench, "parts": "3"])
        #expect(first.json["expectedPhotos"] as? Int == 3)
        let session = try #require(first.string("id"))
        let second = try await grower.upload(try PhotoDecoderTests.bytes("corner.png"), fields: ["locationId": bench, "sessionId": session])
        #expect(second.status == 202)
        #expect(second.string("id") == session)
        #expect((second.json["photos"] as? [Any])?.count == 2)
        let stray = try await grower.upload(photo, fields: ["locationId": other, "sessionId": session])
        #expect(stray.status == 422)
        let unknown = try await grower.upload(photo, fields: ["locationId": bench, "sessionId": UUID().uuidString])
        #expect(unknown.status == 404)
        #expect(try await grower.upload(photo, fields: ["locationId": bench, "sessionId": session, "parts": "2"]).status == 422)
        #expect(try await grower.upload(photo, fields: ["locationId": bench, "parts": "0"]).status == 422)
        let third = try await grower.upload(photo, fields: ["locationId": bench, "sessionId": session])
        #expect(third.status == 202)
        let done = try await PhotoProcessingTests.finished(grower, session)
        #expect(["completed", "completed_with_warnings"].contains(done.string("state") ?? ""), "\(done.string("error") ?? "")")
        // Complete: no fourth part.
        #expect(try await grower.upload(photo, fields: ["locationId": bench, "sessionId": session]).status == 409)
    }

    @Test("not multipart or not an image: 415; cut short, corrupt or a 50,000 × 50,000 header: 422; over the size limit: 413; nothing is kept")
    func refusals() async throws {
        let grower = try await Grower.fresh()
        let (_, area, bench) = try await grower.site()
        let fields = ["locationId": bench]
        #expect(try await grower.send("POST", "/v1/photos", json: ["locationId": bench]).status == 415)
        #expect(try await grower.upload(Array("just text, named like a photo".utf8), fields: fields).status == 415)
        #expect(
            try await grower.upload([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 1, 0, 1, 0], fields: fields, filename: "a.gif", contentType: "image/gif")
                .status == 415)
        let huge = try await grower.upload(SyntheticImage.png(width: 50_000, height: 50_000), fields: fields, contentType: "image/png")
        #expect(huge.status == 422)
        #expect(huge.contentType == "application/problem+json")
        #expect(try await grower.upload(SyntheticImage.jpeg(width: 4000, height: 3000, end: false), fields: fields).status == 422)
        #expect(
            try await grower.upload(SyntheticImage.png(width: 400, height: 300, end: false), fields: fields, contentType: "image/png").status == 422)
        #expect(try await grower.upload(Array(SyntheticImage.jpeg(width: 400, height: 300).prefix(12)), fields: fields).status == 422)
        #expect(try await grower.upload([0xFF, 0xD8, 0xFF, 0x00, 0x01, 0x02], fields: fields).status == 422)
        let tooLarge = try await grower.upload(SyntheticImage.jpeg(width: 4000, height: 3000, fill: 3 * 1024 * 1024), fields: fields)
        #expect(tooLarge.status == 413)
        let image = SyntheticImage.jpeg(width: 400, height: 300)
        #expect(try await grower.upload(image, fields: [:]).status == 422)
        #expect(try await grower.upload(image, fields: ["locationId": "bench seven"]).status == 422)
        #expect(try await grower.upload(image, fields: ["locationId": area]).status == 422)
        #expect(try await grower.upload(image, fields: ["locationId": bench, "productId": UUID().uuidString]).status == 422)
        var noFile = MultipartBody()
        noFile.field("locationId", bench)
        #expect(
            try await TestHTTP.send(
                "POST", grower.url + "/v1/photos", bytes: noFile.finished(), token: grower.token, headers: ["Content-Type": noFile.contentType]
            ).status == 422)
        let cut = Array(noFile.bytes.dropLast(4))
        #expect(
            try await TestHTTP.send("POST", grower.url + "/v1/photos", bytes: cut, token: grower.token, headers: ["Content-Type": noFile.contentType])
                .status == 400)
        #expect(try await grower.send("GET", "/v1/photo-sessions?state=done").status == 422)
        #expect(try await grower.send("GET", "/v1/photo-sessions").items.isEmpty)
    }

    @Test("another tenant's session, photo and bytes answer 404, and its locations take no photos; a viewer cannot upload")
    func isolation() async throws {
        let grower = try await Grower.fresh()
        let (_, _, bench) = try await grower.site()
        let uploaded = try await grower.upload(SyntheticImage.jpeg(width: 400, height: 300), fields: ["locationId": bench])
        let session = try #require(uploaded.string("id"))
        let photo = try #require((uploaded.json["photos"] as? [[String: Any]])?.first?["id"] as? String)
        let stranger = try await Grower.fresh()
        #expect(try await stranger.send("GET", "/v1/photo-sessions/\(session)").status == 404)
        #expect(try await stranger.send("GET", "/v1/photos/\(photo)").status == 404)
        #expect(try await stranger.send("GET", "/v1/photos/\(photo)/image").status == 404)
        #expect(try await stranger.upload(SyntheticImage.jpeg(width: 400, height: 300), fields: ["locationId": bench]).status == 422)
        #expect(try await stranger.send("GET", "/v1/photo-sessions").items.isEmpty)
        let viewer = try await Grower.fresh(roles: ["viewer"], tenant: grower.tenant)
        #expect(try await viewer.upload(SyntheticImage.jpeg(width: 400, height: 300), fields: ["locationId": bench]).status == 403)
        #expect(try await viewer.send("GET", "/v1/photo-sessions/\(session)").status == 200)
    }

    @Test("a location with photo sessions is not deleted (409)")
    func locationKeepsSessions() async throws {
        let grower = try await Grower.fresh()
        let (_, _, bench) = try await grower.site()
        #expect(try await grower.upload(SyntheticImage.jpeg(width: 400, height: 300), fields: ["locationId": bench]).status == 202)
        #expect(try await grower.send("DELETE", "/v1/inventory/locations/\(bench)").status == 409)
    }
}
