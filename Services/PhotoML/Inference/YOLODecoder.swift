/// Reads detections out of a YOLOv8-style output tensor, so a model exported from
/// Ultralytics (detect or segment) can be dropped in by configuration.
///
/// Detect: `[1, 4 + classes, anchors]`, per anchor the box centre, width and height in
/// input pixels, then one score per class (already through a sigmoid). Segment: the same
/// with `masks` mask coefficients after the class scores (the prototypes come as a second
/// output); the boxes are read the same way.
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
                detections.append(
                    Detection(box: Box(x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2), score: bestScore, classID: best))
            }
        }
        return detections
    }
}
