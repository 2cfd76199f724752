/// An axis-aligned box in photo pixels: left, top, right, bottom.
struct Box: Sendable, Equatable, Codable {
    var x1: Double
    var y1: Double
    var x2: Double
    var y2: Double

    var area: Double { (x2 - x1) * (y2 - y1) }

    func intersection(_ other: Box) -> Double {
        max(0, min(x2, other.x2) - max(x1, other.x1)) * max(0, min(y2, other.y2) - max(y1, other.y1))
    }

    func union(_ other: Box) -> Box {
        Box(x1: min(x1, other.x1), y1: min(y1, other.y1), x2: max(x2, other.x2), y2: max(y2, other.y2))
    }

    /// Moved by a tile's offset: from tile to photo coordinates.
    func shifted(x: Int, y: Int) -> Box { Box(x1: x1 + Double(x), y1: y1 + Double(y), x2: x2 + Double(x), y2: y2 + Double(y)) }
}

/// A tile of a photo, in pixels.
struct Tile: Sendable, Equatable, Codable {
    var x1: Int
    var y1: Int
    var x2: Int
    var y2: Int
}

/// How a photo is cut into overlapping tiles so that small objects are seen at the
/// model's input size: SAHI's layout, tile for tile (a parity test holds it to the `sahi`
/// package's `get_slice_bboxes`).
struct Slicing: Sendable, Equatable {
    var tileWidth = 512
    var tileHeight = 512
    /// The share of a tile that overlaps its neighbour, below 1.
    var overlapWidth = 0.25
    var overlapHeight = 0.25

    /// Row by row, left to right. The last tile of a row and the tiles of the last row
    /// are moved back inside the photo (so they overlap more) rather than cut short.
    func tiles(width: Int, height: Int) -> [Tile] {
        let stepBackX = Int(overlapWidth * Double(tileWidth))
        let stepBackY = Int(overlapHeight * Double(tileHeight))
        var tiles: [Tile] = []
        var yMin = 0
        var yMax = 0
        while yMax < height {
            var xMin = 0
            var xMax = 0
            yMax = yMin + tileHeight
            while xMax < width {
                xMax = xMin + tileWidth
                if yMax > height || xMax > width {
                    xMax = min(width, xMax)
                    yMax = min(height, yMax)
                    xMin = max(0, xMax - tileWidth)
                    yMin = max(0, yMax - tileHeight)
                }
                tiles.append(Tile(x1: xMin, y1: yMin, x2: xMax, y2: yMax))
                xMin = xMax - stepBackX
            }
            yMin = yMax - stepBackY
        }
        return tiles
    }
}
