import Crypto
import Foundation

/// What a detection model is, from the card beside it (`<name>.json` next to
/// `<name>.onnx`): the admin routes show it, and the runtime refuses a model whose bytes do
/// not match its checksum.
struct ModelCard: Codable, Sendable, Equatable {
    var name: String
    var version: String
    var sha256: String
    var classes: [String]
    var inputSize: [Int]
    /// `yolov8-detect` or `yolov8-segment`.
    var layout: String
    /// A segmenting model's mask coefficients per detection (32 when absent).
    var masks: Int?

    struct UnknownLayout: Error, CustomStringConvertible {
        let layout: String
        var description: String { "the model's card names layout \(layout); yolov8-detect and yolov8-segment are understood" }
    }

    /// The decoder for the card's layout; another layout stops the start.
    func decoder() throws -> YOLODecoder {
        switch layout {
        case "yolov8-detect": YOLODecoder(classes: classes.count)
        case "yolov8-segment": YOLODecoder(classes: classes.count, masks: masks ?? 32)
        default: throw UnknownLayout(layout: layout)
        }
    }

    struct Missing: Error, CustomStringConvertible {
        var description: String { "no detection model: PHOTO_MODEL_PATH is unset and none is bundled" }
    }

    struct Mismatch: Error, CustomStringConvertible {
        let path: String
        let expected: String
        let found: String
        var description: String { "the model \(path) has SHA-256 \(found); its card says \(expected)" }
    }

    /// The bundled model, `Models/plants-v1.onnx`.
    static var bundledModelPath: String? { Bundle.module.url(forResource: "Models/plants-v1", withExtension: "onnx")?.path }

    /// Reads the card beside `modelPath` and checks the model's bytes against it.
    static func load(modelPath: String) throws -> ModelCard {
        let cardURL = URL(fileURLWithPath: modelPath).deletingPathExtension().appendingPathExtension("json")
        let card = try JSONDecoder().decode(ModelCard.self, from: Data(contentsOf: cardURL))
        let found = SHA256.hash(data: try Data(contentsOf: URL(fileURLWithPath: modelPath))).map { String(format: "%02x", $0) }.joined()
        guard found == card.sha256 else { throw Mismatch(path: modelPath, expected: card.sha256, found: found) }
        return card
    }
}
