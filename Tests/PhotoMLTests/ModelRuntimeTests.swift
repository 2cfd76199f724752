import Foundation
import Testing

@testable import PhotoML

@Suite("model runtime (OpenVINO)")
struct ModelRuntimeTests {
    static func model(_ name: String) throws -> String {
        try #require(Bundle.module.url(forResource: "Models/\(name)", withExtension: "onnx")).path
    }

    @Test("an ONNX model compiles for the CPU and runs a batch: the doubler doubles every value of a dynamic batch")
    func runs() throws {
        let runtime = try ModelRuntime(modelPath: try Self.model("doubler"))
        #expect(runtime.outputs == 1)
        let values = (0..<(2 * 3 * 4 * 4)).map { Float($0) / 10 }
        let outputs = try runtime.run(ModelRuntime.Tensor(shape: [2, 3, 4, 4], values: values))
        #expect(outputs.count == 1)
        #expect(outputs.first?.shape == [2, 3, 4, 4])
        #expect(outputs.first?.values == values.map { $0 * 2 })
    }

    @Test("a missing model, a wrong device and an input of the wrong shape are errors that say what failed, not crashes")
    func failures() throws {
        #expect(throws: ModelRuntime.Failure.self) { try ModelRuntime(modelPath: "/nonexistent/model.onnx") }
        #expect(throws: ModelRuntime.Failure.self) { try ModelRuntime(modelPath: try Self.model("doubler"), device: "TPU") }
        let runtime = try ModelRuntime(modelPath: try Self.model("doubler"))
        #expect(throws: ModelRuntime.Failure.self) {
            try runtime.run(ModelRuntime.Tensor(shape: [1, 3, 5, 5], values: Array(repeating: 1, count: 75)))
        }
        #expect(throws: ModelRuntime.Failure.self) { try runtime.run(ModelRuntime.Tensor(shape: [1, 3, 4, 4], values: [1])) }
    }
}
