import Testing

@testable import PhotoML

@Suite("YOLOv8 output decoding")
struct YOLODecoderTests {
    /// A `[1, rows, anchors]` tensor from per-anchor columns.
    static func tensor(_ columns: [[Float]]) -> ModelRuntime.Tensor {
        let rows = columns.first?.count ?? 0
        var values: [Float] = []
        for row in 0..<rows { for column in columns { values.append(column[row]) } }
        return ModelRuntime.Tensor(shape: [1, rows, columns.count], values: values)
    }

    @Test("detect layout: centre and size become corners; the best class wins; weak anchors are dropped")
    func detect() throws {
        let output = Self.tensor([
            [100, 50, 20, 10, 0.1, 0.9],  // class 1
            [30, 30, 8, 8, 0.2, 0.1],  // below 0.25
            [200, 100, 40, 40, 0.6, 0.3],  // class 0
        ])
        let detections = try YOLODecoder(classes: 2).decode(output)
        #expect(detections.count == 2)
        #expect(detections[0].box == Box(x1: 90, y1: 45, x2: 110, y2: 55))
        #expect(detections[0].classID == 1)
        #expect(abs(detections[0].score - 0.9) < 1e-6)
        #expect(detections[1].classID == 0)
    }

    @Test("segment layout: mask coefficients after the class scores are skipped, the boxes read alike")
    func segment() throws {
        let coefficients = [Float](repeating: 0.5, count: 32)
        let output = Self.tensor([[64, 64, 16, 16, 0.8] + coefficients, [10, 10, 4, 4, 0.05] + coefficients])
        let detections = try YOLODecoder(classes: 1, masks: 32).decode(output)
        #expect(detections == [Detection(box: Box(x1: 56, y1: 56, x2: 72, y2: 72), score: Double(Float(0.8)), classID: 0)])
    }

    @Test("a tensor of another layout is refused with what was expected")
    func wrongLayout() {
        #expect(throws: YOLODecoder.Failure.self) { try YOLODecoder(classes: 80).decode(Self.tensor([[1, 2, 3, 4, 0.9]])) }
        #expect(throws: YOLODecoder.Failure.self) { try YOLODecoder(classes: 1).decode(ModelRuntime.Tensor(shape: [5], values: [1, 2, 3, 4, 5])) }
    }
}
