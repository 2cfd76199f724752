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

    @Test("segment layout: the boxes read alike, and each detection keeps its mask coefficients")
    func segment() throws {
        let coefficients = (0..<32).map { Float($0) / 32 }
        let output = Self.tensor([[64, 64, 16, 16, 0.8] + coefficients, [10, 10, 4, 4, 0.05] + coefficients])
        let detections = try YOLODecoder(classes: 1, masks: 32).decode(output)
        #expect(detections.count == 1)
        #expect(detections.first?.box == Box(x1: 56, y1: 56, x2: 72, y2: 72))
        #expect(detections.first?.coefficients == coefficients)
    }

    @Test("segment prototypes: sigmoid(coefficients · prototypes) inside the box outlines the object, in input pixels")
    func outline() throws {
        // Two prototypes at a quarter of a 64 × 64 input: a disc of radius 5 around (8, 8), and a
        // square in the corner the box leaves out.
        let (width, height) = (16, 16)
        var prototypes = [Float](repeating: -4, count: 2 * width * height)
        for y in 0..<height {
            for x in 0..<width {
                let dx = Double(x) + 0.5 - 8
                let dy = Double(y) + 0.5 - 8
                if dx * dx + dy * dy <= 25 { prototypes[y * width + x] = 4 }
                if x < 2, y < 2 { prototypes[width * height + y * width + x] = 4 }
            }
        }
        let decoder = YOLODecoder(classes: 1, masks: 2)
        let outline = try decoder.outline(
            ModelRuntime.Tensor(shape: [1, 2, height, width], values: prototypes), batchIndex: 0, inputWidth: 64, inputHeight: 64)
        let polygon = try #require(outline.polygon(coefficients: [1, 0], box: Box(x1: 8, y1: 8, x2: 56, y2: 56)))
        #expect(polygon.count >= 12 && polygon.count % 2 == 0)
        // Every corner lies on the disc's edge: 5 prototype pixels = 20 input pixels from (32, 32).
        for index in stride(from: 0, to: polygon.count, by: 2) {
            let radius = ((polygon[index] - 32) * (polygon[index] - 32) + (polygon[index + 1] - 32) * (polygon[index + 1] - 32)).squareRoot()
            #expect(radius > 12 && radius < 22, "(\(polygon[index]), \(polygon[index + 1])) is \(radius) from the centre")
        }
        // The second prototype's square is outside the box: no outline there.
        #expect(outline.polygon(coefficients: [0, 1], box: Box(x1: 8, y1: 8, x2: 56, y2: 56)) == nil)
        #expect(throws: YOLODecoder.Failure.self) {
            try decoder.outline(
                ModelRuntime.Tensor(shape: [1, 3, 4, 4], values: [Float](repeating: 0, count: 48)), batchIndex: 0, inputWidth: 64, inputHeight: 64)
        }
    }

    @Test("a traced contour goes round a region once, and a straight run simplifies to its ends")
    func contour() {
        // A 3 × 3 block at (1, 1) in a 5 × 5 grid.
        let inside = Set((1...3).flatMap { y in (1...3).map { x in y * 5 + x } })
        let points = MaskOutline.contour(inside, width: 5, height: 5) ?? []
        #expect(points.count == 8)
        #expect(Set(points.map { [$0.x, $0.y] }) == Set([[1, 1], [2, 1], [3, 1], [3, 2], [3, 3], [2, 3], [1, 3], [1, 2]]))
        #expect(MaskOutline.simplify(points + [points[0]], tolerance: 0.5).dropLast().count == 4)
        #expect(MaskOutline.contour([12], width: 5, height: 5)?.count == 1)
    }

    @Test("a tensor of another layout is refused with what was expected")
    func wrongLayout() {
        #expect(throws: YOLODecoder.Failure.self) { try YOLODecoder(classes: 80).decode(Self.tensor([[1, 2, 3, 4, 0.9]])) }
        #expect(throws: YOLODecoder.Failure.self) { try YOLODecoder(classes: 1).decode(ModelRuntime.Tensor(shape: [5], values: [1, 2, 3, 4, 5])) }
    }
}
