/// One object a model found: where, how sure, of which class, and from which tile.
struct Detection: Sendable, Equatable, Codable {
    var box: Box
    var score: Double
    var classID: Int
    /// The tile it was found in; nil for the full-photo pass.
    var tile: Int?
    /// A segmenting model's outline of it, as x, y pairs in the same pixels as the box.
    var polygon: [Double]?
    /// A segmenting model's mask coefficients, until the outline is made from them.
    var coefficients: [Float]?
}

/// How detections of overlapping tiles become one list: an object seen by two tiles (or
/// cut by a seam) must be counted once. SAHI's postprocessing, held to the `sahi`
/// package by a parity test.
struct Merging: Sendable, Equatable {
    enum Strategy: String, Sendable, Codable {
        /// Each kept detection absorbs the lower-scored ones that overlap it enough: its box
        /// grows to their union, its score is the highest.
        case greedyNMM
        /// Each kept detection suppresses the lower-scored ones that overlap it enough.
        case nms
    }

    enum Metric: String, Sendable, Codable {
        /// Intersection over union.
        case iou
        /// Intersection over the smaller box: a fragment cut by a seam matches the whole.
        case ios
    }

    var strategy = Strategy.greedyNMM
    var metric = Metric.ios
    var threshold = 0.5
    /// Merge across classes, or only within one.
    var classAgnostic = false

    func merge(_ detections: [Detection]) -> [Detection] {
        guard !classAgnostic else { return mergeGroup(detections) }
        var byClass: [Int: [Detection]] = [:]
        for detection in detections { byClass[detection.classID, default: []].append(detection) }
        return byClass.keys.sorted().flatMap { mergeGroup(byClass[$0] ?? []) }
    }

    func overlap(_ a: Box, _ b: Box) -> Double {
        let shared = a.intersection(b)
        guard shared > 0 else { return 0 }
        switch metric {
        case .iou:
            let union = a.area + b.area - shared
            return union > 0 ? shared / union : 0
        case .ios:
            let smaller = min(a.area, b.area)
            return smaller > 0 ? shared / smaller : 0
        }
    }

    /// Highest score first; equal scores by left, top, right, bottom edge, so the result
    /// does not depend on the order the tiles answered in.
    static func ranked(_ detections: [Detection]) -> [Int] {
        detections.indices.sorted { a, b in
            let (p, q) = (detections[a], detections[b])
            if p.score != q.score { return p.score > q.score }
            return (p.box.x1, p.box.y1, p.box.x2, p.box.y2) < (q.box.x1, q.box.y1, q.box.x2, q.box.y2)
        }
    }

    private func mergeGroup(_ detections: [Detection]) -> [Detection] {
        let order = Self.ranked(detections)
        var absorbed = [Bool](repeating: false, count: detections.count)
        var kept: [Detection] = []
        for (rank, index) in order.enumerated() where !absorbed[index] {
            // Matched against the original boxes (as SAHI's matrix is) ...
            let matches = order[(rank + 1)...].filter { !absorbed[$0] && overlap(detections[index].box, detections[$0].box) >= threshold }
            for match in matches { absorbed[match] = true }
            var keep = detections[index]
            guard strategy == .greedyNMM else {
                kept.append(keep)
                continue
            }
            // ... then merged only while the grown box still matches.
            for match in matches where overlap(keep.box, detections[match].box) >= threshold {
                let other = detections[match]
                keep.box = keep.box.union(other.box)
                if other.score >= keep.score { keep.classID = other.classID }
                keep.score = max(keep.score, other.score)
            }
            kept.append(keep)
        }
        return kept
    }
}
