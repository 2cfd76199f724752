import Foundation

/// The outline of an object a segmenting model found, YOLOv8-seg style: each detection
/// carries mask coefficients, each image a set of prototype masks at a lower resolution;
/// the object's mask is sigmoid(coefficients · prototypes) inside its box, and its outline
/// the mask's outer contour, simplified.
struct MaskOutline: Sendable {
    /// Prototype masks of one image: `count` planes of `width` × `height`, row after row.
    var prototypes: [Float]
    var count: Int
    var width: Int
    var height: Int
    /// The model input's size, whose pixels the boxes are in.
    var inputWidth: Int
    var inputHeight: Int

    /// The outline in input pixels as x, y pairs (clockwise in image coordinates), or nil
    /// when no pixel of the box is in the mask.
    func polygon(coefficients: [Float], box: Box) -> [Double]? {
        guard coefficients.count == count, width > 0, height > 0 else { return nil }
        let scaleX = Double(width) / Double(inputWidth)
        let scaleY = Double(height) / Double(inputHeight)
        let left = max(0, Int((box.x1 * scaleX).rounded(.down)))
        let top = max(0, Int((box.y1 * scaleY).rounded(.down)))
        let right = min(width, Int((box.x2 * scaleX).rounded(.up)))
        let bottom = min(height, Int((box.y2 * scaleY).rounded(.up)))
        guard right > left, bottom > top else { return nil }
        let plane = width * height
        var inside = Set<Int>()
        for y in top..<bottom {
            for x in left..<right {
                var logit: Float = 0
                for k in 0..<count { logit += coefficients[k] * prototypes[k * plane + y * width + x] }
                // sigmoid(logit) > 0.5 exactly when logit > 0.
                if logit > 0 { inside.insert(y * width + x) }
            }
        }
        guard let contour = Self.contour(inside, width: width, height: height) else { return nil }
        // Closed: the start repeated at the end, so the run back to it simplifies too.
        let simplified = Self.simplify(contour + [contour[0]], tolerance: 0.75).dropLast()
        return simplified.flatMap { [(Double($0.x) + 0.5) / scaleX, (Double($0.y) + 0.5) / scaleY] }
    }

    struct Point: Equatable, Sendable {
        var x: Int
        var y: Int
    }

    /// Clockwise from west, as (dx, dy) in image coordinates (y down).
    static let around = [(-1, 0), (-1, -1), (0, -1), (1, -1), (1, 0), (1, 1), (0, 1), (-1, 1)]

    /// The outer boundary of the first region in raster order, by Moore-neighbour tracing.
    static func contour(_ inside: Set<Int>, width: Int, height: Int) -> [Point]? {
        guard let first = inside.min() else { return nil }
        func isSet(_ x: Int, _ y: Int) -> Bool { x >= 0 && y >= 0 && x < width && y < height && inside.contains(y * width + x) }
        let start = Point(x: first % width, y: first / width)
        var points = [start]
        var current = start
        // The pixel west of the first one in raster order is outside.
        var backtrack = 0
        for _ in 0..<(4 * inside.count + 8) {
            var next: Point?
            for step in 1...8 {
                let direction = (backtrack + step) % 8
                let (dx, dy) = around[direction]
                guard isSet(current.x + dx, current.y + dy) else { continue }
                let found = Point(x: current.x + dx, y: current.y + dy)
                // The last outside pixel looked at becomes the backtrack, seen from the new point.
                let (bx, by) = around[(direction + 7) % 8]
                let outside = (current.x + bx - found.x, current.y + by - found.y)
                backtrack = around.firstIndex { $0 == outside } ?? 0
                next = found
                break
            }
            guard let next else { return points }  // a lone pixel
            if next == start { return points }
            points.append(next)
            current = next
        }
        return points
    }

    /// Douglas–Peucker: drops points closer than `tolerance` to the line their neighbours keep.
    static func simplify(_ points: [Point], tolerance: Double) -> [Point] {
        guard points.count > 3 else { return points }
        var keep = [Bool](repeating: false, count: points.count)
        keep[0] = true
        keep[points.count - 1] = true
        var spans = [(0, points.count - 1)]
        while let (from, to) = spans.popLast() {
            guard to > from + 1 else { continue }
            let (a, b) = (points[from], points[to])
            let (dx, dy) = (Double(b.x - a.x), Double(b.y - a.y))
            let length = max(1e-9, (dx * dx + dy * dy).squareRoot())
            var farthest = from
            var distance = 0.0
            for index in (from + 1)..<to {
                let p = points[index]
                let d =
                    dx == 0 && dy == 0
                    ? (Double(p.x - a.x) * Double(p.x - a.x) + Double(p.y - a.y) * Double(p.y - a.y)).squareRoot()
                    : abs(dy * Double(p.x - a.x) - dx * Double(p.y - a.y)) / length
                if d > distance {
                    distance = d
                    farthest = index
                }
            }
            if distance > tolerance {
                keep[farthest] = true
                spans.append((from, farthest))
                spans.append((farthest, to))
            }
        }
        return points.indices.filter { keep[$0] }.map { points[$0] }
    }
}
