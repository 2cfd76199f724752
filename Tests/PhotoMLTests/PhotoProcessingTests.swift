import Foundation
import TestSupport
import Testing

@testable import PhotoML

@Suite("photo processing")
struct PhotoProcessingTests {
    struct Truth: Decodable {
        var width: Int
        var height: Int
        var plants: Int
    }

    static func fixture() throws -> ([UInt8], Truth) {
        let directory = try #require(Bundle.module.url(forResource: "Models", withExtension: nil))
        let bytes = [UInt8](try Data(contentsOf: directory.appendingPathComponent("bench-photo.jpg")))
        let truth = try JSONDecoder().decode(Truth.self, from: Data(contentsOf: directory.appendingPathComponent("bench-photo.json")))
        return (bytes, truth)
    }

    /// Polls the session until it leaves pending and processing.
    static func finished(_ grower: Grower, _ session: String) async throws -> HTTPAnswer {
        let done = try await eventually(timeout: .seconds(90)) {
            !["pending", "processing"].contains(try await grower.send("GET", "/v1/photo-sessions/\(session)").string("state") ?? "")
        }
        let last = try await grower.send("GET", "/v1/photo-sessions/\(session)")
        #expect(done, "the session stayed \(last.string("state") ?? "?")")
        return last
    }

    @Test("an uploaded photo is sliced, detected, merged and estimated: the count is close to the plants it shows, with the stages' times")
    func processes() async throws {
        let grower = try await Grower.fresh()
        let (_, _, bench) = try await grower.site()
        let product = try await grower.create("/v1/inventory/products", ["species": "Lavandula"])
        _ = try await grower.create("/v1/inventory/stock", ["locationId": bench, "productId": product, "quantity": 70])
        let (bytes, truth) = try Self.fixture()
        let uploaded = try await grower.upload(bytes, fields: ["locationId": bench, "productId": product])
        let session = try #require(uploaded.string("id"))
        let answer = try await Self.finished(grower, session)
        #expect(["completed", "completed_with_warnings"].contains(answer.string("state") ?? ""))
        let result = try #require(answer.json["result"] as? [String: Any])
        let detected = try #require(result["detected"] as? Int)
        print("PROCESSING \(truth.plants) plants in a \(truth.width) × \(truth.height) photo: \(detected) detected; stages \(result["stages"] ?? "")")
        #expect(abs(detected - truth.plants) <= truth.plants / 7, "\(detected) detected for \(truth.plants) plants")
        #expect((result["counts"] as? [[String: Any]])?.first?["name"] as? String == "plant")
        let stages = try #require(result["stages"] as? [String: Double])
        #expect(Set(stages.keys).isSuperset(of: ["decode", "tiling", "inference", "merge", "estimation"]))
        let estimation = try #require(result["estimation"] as? [String: Any])
        #expect(estimation["chosen"] as? String == "density")
        // No depth bands on the bench: the photo is taken to show all of it.
        let codes = (result["warnings"] as? [[String: Any]])?.compactMap { $0["code"] as? String } ?? []
        #expect(codes.contains("no_calibration"))
        let photo = try #require((answer.json["photos"] as? [[String: Any]])?.first)
        #expect(photo["state"] as? String == "done")
        #expect(photo["detected"] as? Int == detected)
        let detections = try await grower.send("GET", "/v1/photo-sessions/\(session)/detections?limit=100")
        #expect(detections.items.count == min(100, detected))
        #expect(try await grower.send("GET", "/v1/photo-sessions/\(session)/detections?minScore=2").status == 422)
        #expect(try await grower.send("GET", "/v1/photo-sessions/\(session)/detections?classId=x").status == 422)
        // Those meeting a box of the photo, and of one photo.
        let corner = try await grower.send("GET", "/v1/photo-sessions/\(session)/detections?bbox=0,0,800,600&limit=100")
        #expect(corner.status == 200)
        #expect(!corner.items.isEmpty && corner.items.count < min(100, detected))
        for item in corner.items {
            let box = try #require(item["box"] as? [String: Double])
            #expect((box["x1"] ?? .infinity) <= 800 && (box["y1"] ?? .infinity) <= 600)
        }
        for bad in ["1,2,3", "5,0,1,10", "a,b,c,d", "-1,0,10,10"] {
            #expect(try await grower.send("GET", "/v1/photo-sessions/\(session)/detections?bbox=\(bad)").status == 422, "\(bad)")
        }
        let photoID = try #require(photo["id"] as? String)
        #expect(
            try await grower.send("GET", "/v1/photo-sessions/\(session)/detections?photoId=\(photoID)&limit=100").items.count == min(100, detected))
        #expect(try await grower.send("GET", "/v1/photo-sessions/\(session)/detections?photoId=\(UUID())").items.isEmpty)
        #expect(try await grower.send("GET", "/v1/photo-sessions/\(session)/detections?photoId=x").status == 422)
        let estimated = try await grower.send("GET", "/v1/photo-sessions/\(session)/estimation")
        #expect(estimated.status == 200)
        #expect(NSDictionary(dictionary: estimated.json["estimation"] as? [String: Any] ?? [:]) == NSDictionary(dictionary: estimation))
        #expect(try await Grower.fresh().send("GET", "/v1/photo-sessions/\(session)/estimation").status == 404)
        #expect(try await Grower.fresh().send("GET", "/v1/photo-sessions/\(session)/detections").status == 404)

        // The estimate proposes an adjustment of the book quantity; accepting it writes it, once.
        let proposal = try #require(result["proposal"] as? [String: Any])
        #expect(proposal["bookQuantity"] as? Int == 70)
        let estimate = try #require(proposal["estimate"] as? Int)
        #expect(try await Grower.fresh().send("POST", "/v1/photo-sessions/\(session)/accept").status == 404)
        let accepted = try await grower.send("POST", "/v1/photo-sessions/\(session)/accept")
        #expect(accepted.status == 201)
        #expect(accepted.string("kind") == "adjustment")
        #expect(accepted.string("sessionId") == session)
        #expect(accepted.json["quantityAfter"] as? Int == estimate)
        let batch = try await grower.send("GET", try #require(accepted.headers["location"]))
        #expect(batch.json["quantity"] as? Int == estimate)
        #expect(try await grower.send("POST", "/v1/photo-sessions/\(session)/accept").status == 409)
    }

    @Test("the same photo again for the location reuses the detections without inference, unless reprocess is asked")
    func duplicatesReuse() async throws {
        let grower = try await Grower.fresh()
        let (_, _, bench) = try await grower.site()
        let (bytes, _) = try Self.fixture()
        let first = try await Self.finished(grower, try #require(try await grower.upload(bytes, fields: ["locationId": bench]).string("id")))
        let detected = try #require((first.json["result"] as? [String: Any])?["detected"] as? Int)
        let again = try await Self.finished(grower, try #require(try await grower.upload(bytes, fields: ["locationId": bench]).string("id")))
        #expect(again.json["duplicate"] as? Bool == true)
        let reused = try #require(again.json["result"] as? [String: Any])
        #expect(reused["detected"] as? Int == detected)
        #expect((reused["stages"] as? [String: Double])?["inference"] == nil)
        let forced = try await Self.finished(
            grower, try #require(try await grower.upload(bytes, fields: ["locationId": bench, "reprocess": "true"]).string("id")))
        #expect(((forced.json["result"] as? [String: Any])?["stages"] as? [String: Double])?["inference"] != nil)
        #expect(try await grower.upload(bytes, fields: ["locationId": bench, "reprocess": "maybe"]).status == 422)
    }

    @Test("a photo whose header passes but whose data does not decode fails its session, with the reason")
    func undecodable() async throws {
        let grower = try await Grower.fresh()
        let (_, _, bench) = try await grower.site()
        let uploaded = try await grower.upload(SyntheticImage.jpeg(width: 640, height: 480), fields: ["locationId": bench])
        let answer = try await Self.finished(grower, try #require(uploaded.string("id")))
        #expect(answer.string("state") == "failed")
        #expect(answer.string("error")?.contains("could not be decoded") == true)
        #expect((answer.json["photos"] as? [[String: Any]])?.first?["state"] as? String == "failed")
        #expect(try await grower.send("POST", "/v1/photo-sessions/\(try #require(uploaded.string("id")))/accept").status == 409)
    }
}

@Suite("detection partitions")
struct DetectionPartitionTests {
    @Test("the daily job keeps a week of day partitions ahead and drops those past the retention")
    func maintained() async throws {
        _ = try await PhotoMLServer.shared.get()  // migrated
        try await withDatabase("photoml") { database in
            let store = ProcessingStore(database: database)
            try await database.client.query(
                "CREATE TABLE IF NOT EXISTS photoml.detections_20200101 PARTITION OF photoml.detections FOR VALUES FROM ('2020-01-01') TO ('2020-01-02')",
                logger: database.logger)
            let dropped = try await store.maintainPartitions(retentionDays: 90)
            #expect(dropped >= 1)
            var names: [String] = []
            for try await name in try await database.client.query(
                """
                SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = 'photoml.detections'::regclass ORDER BY 1
                """, logger: database.logger
            ).decode(String.self) {
                names.append(name)
            }
            #expect(!names.contains("detections_20200101"))
            let weekAhead = Calendar(identifier: .gregorian).date(byAdding: .day, value: 7, to: Date()) ?? Date()
            let formatter = DateFormatter()
            formatter.dateFormat = "yyyyMMdd"
            formatter.timeZone = TimeZone(identifier: "UTC")
            #expect(names.contains("detections_\(formatter.string(from: weekAhead))"), "\(names)")
        }
    }
}
