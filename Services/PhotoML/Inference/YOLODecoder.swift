/// Reads detections out of a YOLOv8-style output tensor, so a model exported from
/// Ultralytics (detect or segment) can be dropped in by configuration.
///
/// Detect: `[1, 4 + classes, anchors]`, per anchor the box centre, width and height in
/// input pixels, then one score per class (already through a sigmoid). Segment: the same
/// with `masks` mask coefficients after the class scores, kept on each detection; the
/// prototypes come as a second output, `[1, masks, height, width]` (see `MaskOutline`).
struct YOLODecoder: Sendable, Equatable {
    var classes: Int
    /// Mask coefficients per anchor: 0 for a detect model, 32 for YOLOv8-seg.
    var masks = 0
    var minimumScore = 0.25

    enum Failure: Error, Equatable {
        case layout(String)
    }

    /// Detections in the model input's pixels (the tile's, before any shift to the photo).
    func decode(_ output: ModelRuntime.Tensor, batchIndex: Int = 0) throws(Failure) -> [Detection] {
        guard output.shape.count == 3 else { throw .layout("expected [batch, 4 + classes + masks, anchors], got \(output.shape)") }
        let (batch, rows, anchors) = (output.shape[0], output.shape[1], output.shape[2])
        guard rows == 4 + classes + masks else {
            throw .layout("\(rows) values per anchor; a model with \(classes) classes and \(masks) mask coefficients has \(4 + classes + masks)")
        }
        guard (0..<batch).contains(batchIndex) else { throw .layout("no batch entry \(batchIndex) in \(batch)") }
        let base = batchIndex * rows * anchors
        var detections: [Detection] = []
        output.values.withUnsafeBufferPointer { values in
            func value(_ row: Int, _ anchor: Int) -> Double { Double(values[base + row * anchors + anchor]) }
            for anchor in 0..<anchors {
                var best = 0
                var bestScore = -Double.infinity
                for classIndex in 0..<classes where value(4 + classIndex, anchor) > bestScore {
                    best = classIndex
                    bestScore = value(4 + classIndex, anchor)
                }
                guard bestScore >= minimumScore else { continue }
                let (cx, cy, w, h) = (value(0, anchor), value(1, anchor), value(2, anchor), value(3, anchor))
                guard w > 0, h > 0 else { continue }
                var detection = Detection(
                    box: Box(x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2), score: bestScore, classID: best)
                if masks > 0 { detection.coefficients = (0..<masks).map { Float(value(4 + classes + $0, anchor)) } }
                detections.append(detection)
            }
        }
        return detections
    }

    /// A segmenting model's prototype masks for one image of the batch.
    func outline(_ prototypes: ModelRuntime.Tensor, batchIndex: Int, inputWidth: Int, inputHeight: Int) throws(Failure) -> MaskOutline {
        guard prototypes.shape.count == 4, prototypes.shape[1] == masks, (0..<prototypes.shape[0]).contains(batchIndex) else {
            throw .layout("expected prototypes [batch, \(masks), height, width], got \(prototypes.shape)")
        }
        let (height, width) = (prototypes.shape[2], prototypes.shape[3])
        let size = masks * height * width
        return MaskOutline(
            prototypes: Array(prototypes.values[(batchIndex * size)..<((batchIndex + 1) * size)]), count: masks, width: width, height: height,
            inputWidth: inputWidth, inputHeight: inputHeight)
    }
}
