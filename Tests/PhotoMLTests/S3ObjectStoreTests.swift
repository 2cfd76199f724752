import AsyncHTTPClient
import Foundation
import TestSupport
import Testing

@testable import PhotoML

/// moto_server (pinned in `.dev/venv`) on a free loopback port, for the suite: the S3
/// adapter is real code pointed at a local stand-in.
struct MotoServer {
    static let shared = MotoServer()
    private let started = StartOnce<String> {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for _ in 0..<5 {
            let port = Int.random(in: 21000...29000)
            let process = Process()
            process.executableURL = root.appendingPathComponent(".dev/venv/bin/moto_server")
            process.arguments = ["-H", "127.0.0.1", "-p", String(port)]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let url = "http://127.0.0.1:\(port)"
            let ready = try await eventually(timeout: .seconds(20)) { (try? await TestHTTP.send("GET", url + "/moto-api/"))?.status == 200 }
            if ready { return url }
            process.terminate()
        }
        throw MotoUnavailable()
    }

    struct MotoUnavailable: Error {}

    func url() async throws -> String { try await started.value() }

    func store(partSize: Int = 8 * 1024 * 1024) async throws -> S3ObjectStore {
        let endpoint = try #require(URL(string: try await url()))
        let store = S3ObjectStore(
            endpoint: endpoint, bucket: "photos-\(UUID().uuidString.lowercased().prefix(8))",
            signer: SigV4(accessKey: "testing", secretKey: "testing", region: "us-east-1"), client: .shared, partSize: partSize)
        try await store.ensureBucket()
        return store
    }
}

@Suite("S3 object store")
struct S3ObjectStoreTests {
    @Test("SigV4 signs AWS's documented GET Object example to its documented signature")
    func documentedSignature() throws {
        let signer = SigV4(accessKey: "AKIAIOSFODNN7EXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1")
        let headers = signer.sign(
            method: "GET", path: "/test.txt", query: [], headers: ["Host": "examplebucket.s3.amazonaws.com", "Range": "bytes=0-9"],
            payloadHash: SigV4.payloadHash([]), date: Date(timeIntervalSince1970: 1_369_353_600))
        #expect(headers["x-amz-date"] == "20130524T000000Z")
        #expect(
            headers["Authorization"]
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        )
    }

    @Test("SigV4 presigns AWS's documented query-string example to its documented signature")
    func documentedPresignedURL() throws {
        let signer = SigV4(accessKey: "AKIAIOSFODNN7EXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1")
        let query = signer.presign(
            method: "GET", path: "/test.txt", host: "examplebucket.s3.amazonaws.com", seconds: 86400, date: Date(timeIntervalSince1970: 1_369_353_600)
        )
        #expect(query.first { $0.0 == "X-Amz-Credential" }?.1 == "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request")
        #expect(query.last?.0 == "X-Amz-Signature")
        #expect(query.last?.1 == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    @Test("a photo goes up, comes back byte for byte, and goes; a key with spaces and accents is encoded once")
    func roundTrip() async throws {
        let store = try await MotoServer.shared.store()
        let bytes = SyntheticImage.jpeg(width: 400, height: 300, fill: 2048)
        try await store.put("tenant/ä photo #1.jpg", bytes)
        #expect(try await store.get("tenant/ä photo #1.jpg") == bytes)
        try await store.delete("tenant/ä photo #1.jpg")
        await #expect(throws: ObjectStoreError.notFound("tenant/ä photo #1.jpg")) { try await store.get("tenant/ä photo #1.jpg") }
        await #expect(throws: ObjectStoreError.notFound("nothing-here")) { try await store.get("nothing-here") }
    }

    @Test("an object larger than a part goes up in parts and comes back whole")
    func multipart() async throws {
        let store = try await MotoServer.shared.store(partSize: 5 * 1024 * 1024)
        let bytes = (0..<(12 * 1024 * 1024 + 17)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
        try await store.put("big/photo.png", bytes)
        let back = try await store.get("big/photo.png")
        #expect(back.count == bytes.count)
        #expect(back == bytes)
    }

    @Test("a bucket that does not exist answers an S3 failure, not a crash")
    func missingBucket() async throws {
        let endpoint = try #require(URL(string: try await MotoServer.shared.url()))
        let store = S3ObjectStore(
            endpoint: endpoint, bucket: "no-such-bucket", signer: SigV4(accessKey: "testing", secretKey: "testing", region: "us-east-1"),
            client: .shared)
        await #expect(throws: S3ObjectStore.Failure.self) { try await store.put("x", [1, 2, 3]) }
    }
}

@Suite("photo uploads into S3")
struct S3PhotoUploadTests {
    @Test("with PHOTO_S3_BUCKET set (the suite's service), an uploaded photo's bytes live in the bucket and come back through the API")
    func uploadIntoBucket() async throws {
        let owner = try await Grower.fresh()
        let (_, _, bench) = try await owner.site()
        let image = SyntheticImage.png(width: 640, height: 480, fill: 4096)
        let uploaded = try await owner.upload(image, fields: ["locationId": bench], contentType: "image/png")
        #expect(uploaded.status == 202)
        let photo = try #require((uploaded.json["photos"] as? [[String: Any]])?.first?["id"] as? String)
        #expect([UInt8](try await owner.send("GET", "/v1/photos/\(photo)/image").body) == image)
        let bucket = try await PhotoMLServer.shared.bucket()
        #expect(try await bucket.get("\(owner.tenant.uuidString.lowercased())/\(photo)") == image)
    }
}

@Suite("file object store")
struct FileObjectStoreTests {
    @Test("put, get, replace, delete; a missing key is notFound; keys cannot climb out of the root")
    func roundTrip() async throws {
        let store = try FileObjectStore(root: FileManager.default.temporaryDirectory.appendingPathComponent("objects-\(UUID().uuidString)"))
        try await store.put("tenant/photo", [1, 2, 3])
        try await store.put("tenant/photo", [4, 5])
        #expect(try await store.get("tenant/photo") == [4, 5])
        try await store.delete("tenant/photo")
        await #expect(throws: ObjectStoreError.notFound("tenant/photo")) { try await store.get("tenant/photo") }
        await #expect(throws: ObjectStoreError.invalidKey("../etc/passwd")) { try await store.put("../etc/passwd", [0]) }
        await #expect(throws: ObjectStoreError.invalidKey("a//b")) { try await store.get("a//b") }
    }
}
