import Crypto
import Foundation
import Persistence
import PostgresNIO
import TestSupport
import Testing

@testable import Jobs
@testable import PhotoML

@Suite("a worker killed mid-photo")
struct WorkerKilledTests {
    @Test("a photo whose worker died mid-inference is taken up by another replica once the lease lapses, and its session completes once")
    func resumes() async throws {
        _ = try await PhotoMLServer.shared.get()
        let bucket = try await PhotoMLServer.shared.bucket()
        let grower = try await Grower.fresh()
        let (_, _, bench) = try await grower.site()
        let (bytes, truth) = try PhotoProcessingTests.fixture()
        // A queue of this test's own: no replica but the ones below takes from it.
        let queue = "photos-\(UUID().uuidString.prefix(8))"
        let photoID = UUID.v7()
        let key = "\(grower.tenant.uuidString.lowercased())/\(photoID.uuidString.lowercased())"
        try await bucket.put(key, bytes)
        let session = try await withDatabase("photoml") { database in
            let upload = PhotoUpload(
                locationId: try #require(UUID(uuidString: bench)), productId: nil, sessionId: nil, parts: 1, header: try ImageHeader.read(bytes),
                sha256: SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined(), bytes: bytes.count)
            let session = try await SessionStore(database: database, photoQueue: queue).add(
                upload, photoID: photoID, storageKey: key, actor: grower.subject.uuidString.lowercased(), tenant: grower.tenant)
            // A replica takes the photo, starts on it, and is killed: nobody heartbeats its lease.
            let taken = try await JobStore(database: database).claim(queue: queue, limit: 1, after: nil, worker: "killed-replica", lease: .seconds(2))
            #expect(taken.count == 1)
            #expect(try await ProcessingStore(database: database).claim(photoID, tenant: grower.tenant) != nil)
            return session.id.uuidString.lowercased()
        }
        #expect(try await grower.send("GET", "/v1/photo-sessions/\(session)").string("state") == "processing")

        // Another replica, serving the same queue.
        let (_, issuer) = try await PhotoMLServer.shared.get()
        var configuration = PhotoMLConfiguration.forTests(TestEnvironment.configuration("photoml", jwksURL: issuer.jwksURL))
        configuration.s3 = .init(endpoint: bucket.endpoint, bucket: bucket.bucket, region: "us-east-1", accessKey: "testing", secretKey: "testing")
        configuration.photoQueue = queue
        let rescuer = try await TestServer.start { try photoMLHost(configuration).application(onServerRunning: $0) }
        let answer = try await PhotoProcessingTests.finished(grower, session)
        await rescuer.stop()
        #expect(["completed", "completed_with_warnings"].contains(answer.string("state") ?? ""))
        let detected = try #require((answer.json["result"] as? [String: Any])?["detected"] as? Int)
        #expect(abs(detected - truth.plants) <= truth.plants / 7, "\(detected) detected for \(truth.plants) plants")
        try await withDatabase("photoml") { database in
            try await database.withTenant(grower.tenant) { connection in
                for try await (attempt, errors) in try await connection.query(
                    "SELECT attempt, errors::text FROM photoml.jobs WHERE queue = \(queue)", logger: database.logger
                ).decode((Int, String).self) {
                    #expect(attempt == 2)
                    #expect(errors.contains("killed-replica"))
                }
                for try await stored in try await connection.query(
                    "SELECT count(*)::int FROM photoml.detections WHERE photo_id = \(photoID)", logger: database.logger
                ).decode(Int.self) {
                    #expect(stored == detected)
                }
            }
        }
    }
}
