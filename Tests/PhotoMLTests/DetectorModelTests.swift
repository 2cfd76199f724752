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
