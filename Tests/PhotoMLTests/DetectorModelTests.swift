import Foundation
import TestSupport
import Testing

@testable import PhotoML

@Suite("the bundled detector")
struct DetectorModelTests {
    struct Fixture: Decodable {
        var width: Int
        var height: Int
        var boxes: [[Double]]
    }

    @Test("its card matches its bytes, and a model whose bytes differ from its card is refused")
    func checksum() throws {
        let path = try #require(ModelCard.bundledModelPath)
        let card = try ModelCard.load(modelPath: path)
        #expect(card.classes == ["plant"])
        #expect(card.layout == "yolov8-detect")
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("tampered-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: copy.appendingPathComponent("plants-v1.onnx"))
        try Data(contentsOf: URL(fileURLWithPath: path).deletingPathExtension().appendingPathExtension("json"))
            .write(to: copy.appendingPathComponent("plants-v1.json"))
        #expect(throws: ModelCard.Mismatch.self) { try ModelCard.load(modelPath: copy.appendingPathComponent("plants-v1.onnx").path) }
    }

    @Test("a card's layout picks the decoder: detect, segment with its mask coefficients; another layout stops the start")
    func layouts() throws {
        var card = try ModelCard.load(modelPath: try #require(ModelCard.bundledModelPath))
        #expect(try card.decoder() == YOLODecoder(classes: 1))
        card.layout = "yolov8-segment"
        #expect(try card.decoder().masks == 32)
        card.masks = 16
        #expect(try card.decoder().masks == 16)
        card.layout = "detr"
        #expect(throws: ModelCard.UnknownLayout.self) { try card.decoder() }
    }

    @Test("on a tile it never saw, OpenVINO runs it, the YOLOv8 decoder reads it and NMS leaves about one box per plant")
    func countsATile() throws {
        let directory = try #require(Bundle.module.url(forResource: "Models", withExtension: nil))
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: directory.appendingPathComponent("plants-tile.json")))
        let rgb = [UInt8](try Data(contentsOf: directory.appendingPathComponent("plants-tile.rgb")))
        #expect(rgb.count == fixture.width * fixture.height * 3)
        // Interleaved RGB rows to planar channels, as the model takes them.
        let plane = fixture.width * fixture.height
        var values = [Float](repeating: 0, count: 3 * plane)
        for pixel in 0..<plane { for channel in 0..<3 { values[channel * plane + pixel] = Float(rgb[pixel * 3 + channel]) } }
        let runtime = try ModelRuntime(modelPath: try #require(ModelCard.bundledModelPath))
        let output = try #require(try runtime.run(ModelRuntime.Tensor(shape: [1, 3, fixture.height, fixture.width], values: values)).first)
        let raw = try YOLODecoder(classes: 1, minimumScore: 0.3).decode(output)
        let merged = Merging(strategy: .nms, metric: .iou, threshold: 0.4, classAgnostic: true).merge(raw)
        let truth = fixture.boxes.count
        print("DETECTOR tile of \(truth) plants: \(raw.count) raw detections, \(merged.count) after NMS")
        #expect(abs(merged.count - truth) <= max(2, truth / 5), "\(merged.count) found for \(truth) plants")
    }

    @Test("the whole-photo pass shrinks a photo to one tile and finds its plants where they are in the photo's own pixels")
    func wholePhotoPass() throws {
        let directory = try #require(Bundle.module.url(forResource: "Models", withExtension: nil))
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: directory.appendingPathComponent("plants-tile.json")))
        let rgb = [UInt8](try Data(contentsOf: directory.appendingPathComponent("plants-tile.rgb")))
        // The tile at twice its size: shrunk back to one tile, its plants are as the model knows them again.
        var pixels = [UInt8](repeating: 0, count: rgb.count * 4)
        let width = fixture.width * 2
        for y in 0..<(fixture.height * 2) {
            for x in 0..<width {
                let from = ((y / 2) * fixture.width + x / 2) * 3
                let to = (y * width + x) * 3
                pixels[to] = rgb[from]
                pixels[to + 1] = rgb[from + 1]
                pixels[to + 2] = rgb[from + 2]
            }
        }
        let photo = DecodedPhoto(width: width, height: fixture.height * 2, pixels: pixels)
        var detector = Detector(
            runtime: try ModelRuntime(modelPath: try #require(ModelCard.bundledModelPath)), decoder: YOLODecoder(classes: 1, minimumScore: 0.3))
        detector.fullImagePass = true
        // Tiles the fixture's size: the whole photo shrinks back to the fixture.
        detector.slicing.tileWidth = fixture.width
        detector.slicing.tileHeight = fixture.height
        let nms = Merging(strategy: .nms, metric: .iou, threshold: 0.4, classAgnostic: true)
        let whole = nms.merge(try detector.wholePhoto(photo))
        let truth = fixture.boxes.map { Box(x1: $0[0] * 2, y1: $0[1] * 2, x2: $0[2] * 2, y2: $0[3] * 2) }
        #expect(whole.allSatisfy { $0.tile == nil })
        let matched = truth.filter { plant in whole.contains { nms.overlap($0.box, plant) > 0.5 } }
        print("DETECTOR whole-photo pass on a tile at twice its size: \(whole.count) found, \(matched.count) of \(truth.count) plants matched")
        #expect(abs(whole.count - truth.count) <= max(2, truth.count / 5))
        #expect(matched.count >= truth.count * 3 / 4)
        let found = try detector.detect(photo)
        #expect(found.raw.contains { $0.tile == nil })
        #expect(found.seconds["full_image"] != nil)
    }
}

@Suite("model admin")
struct ModelAdminTests {
    @Test("owners and admins see the model's card; a member gets 403, no token 401")
    func listing() async throws {
        let owner = try await Grower.fresh(roles: ["owner"])
        let answer = try await owner.send("GET", "/v1/admin/photoml/models")
        #expect(answer.status == 200)
        let card = try #require(answer.items.first)
        #expect(card["name"] as? String == "plants")
        #expect((card["sha256"] as? String)?.count == 64)
        #expect(try await Grower.fresh(roles: ["member"]).send("GET", "/v1/admin/photoml/models").status == 403)
        #expect(try await TestHTTP.send("GET", owner.url + "/v1/admin/photoml/models").status == 401)
    }
}

@Suite("detection outlines")
struct DetectionOutlineTests {
    @Test("a segmenting model's outlines are stored with the detections and listed as [x, y] points")
    func storedAndListed() async throws {
        let grower = try await Grower.fresh()
        let (_, _, bench) = try await grower.site()
        let bytes = SyntheticImage.png(width: 64, height: 64)
        let photoID = UUID.v7()
        let key = PhotoIntake.storageKey(tenant: grower.tenant, photo: photoID)
        let session = try await withDatabase("photoml") { database in
            let upload = PhotoUpload(
                locationId: try #require(UUID(uuidString: bench)), productId: nil, sessionId: nil, parts: 1, header: try ImageHeader.read(bytes),
                sha256: String(repeating: "ab", count: 32), bytes: bytes.count)
            // A queue nobody takes from: this test plays the worker.
            let session = try await SessionStore(database: database, photoQueue: "outline-\(UUID())").add(
                upload, photoID: photoID, storageKey: key, actor: grower.subject.uuidString, tenant: grower.tenant)
            let processing = ProcessingStore(database: database)
            let work = try #require(try await processing.claim(photoID, tenant: grower.tenant))
            let outlined = Detection(
                box: Box(x1: 10, y1: 10, x2: 30, y2: 30), score: 0.9, classID: 0, tile: 0, polygon: [10, 20, 20, 10, 30, 20, 20, 30])
            let plain = Detection(box: Box(x1: 40, y1: 40, x2: 50, y2: 50), score: 0.8, classID: 0, tile: 0)
            _ = try await processing.finish(work, detections: [outlined, plain], warnings: [], stages: [:], thumbnailKey: nil, tenant: grower.tenant)
            return session.id.uuidString.lowercased()
        }
        let listed = try await grower.send("GET", "/v1/photo-sessions/\(session)/detections")
        #expect(listed.items.count == 2)
        #expect(listed.items.first?["polygon"] as? [[Double]] == [[10, 20], [20, 10], [30, 20], [20, 30]])
        #expect(listed.items.last?["polygon"] == nil)
    }
}
