import Foundation

/// The sliced detection of one photo: tiles cut by `slicing`, run through the model in
/// batches, decoded, moved to photo coordinates and merged.
struct Detector: Sendable {
    let runtime: ModelRuntime
    let decoder: YOLODecoder
    var slicing = Slicing()
    var merging = Merging()
    /// Tiles per inference: a batch keeps both cores busy without holding much memory.
    var batchSize = 4

    struct Found: Sendable {
        var tiles: [Tile]
        /// Before merging, each with its tile.
        var raw: [Detection]
        var merged: [Detection]
        var seconds: [String: Double]
    }

    func detect(_ photo: DecodedPhoto) throws -> Found {
        var seconds: [String: Double] = [:]
        let clock = ContinuousClock()
        var started = clock.now
        func lap(_ stage: String) {
            let now = clock.now
            let elapsed = now - started
            seconds[stage, default: 0] += Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            started = now
        }
        let tiles = slicing.tiles(width: photo.width, height: photo.height)
        lap("tiling")
        var raw: [Detection] = []
        for first in stride(from: 0, to: tiles.count, by: batchSize) {
            let batch = Array(tiles[first..<min(first + batchSize, tiles.count)])
            // Tiles of one photo share a size (a photo smaller than a tile is one tile).
            let width = batch[0].x2 - batch[0].x1
            let height = batch[0].y2 - batch[0].y1
            var values = [Float](repeating: 0, count: batch.count * 3 * width * height)
            let plane = width * height
            for (index, tile) in batch.enumerated() {
                let base = index * 3 * plane
                for y in 0..<height {
                    var from = ((tile.y1 + y) * photo.width + tile.x1) * 3
                    let row = y * width
                    for x in 0..<width {
                        values[base + row + x] = Float(photo.pixels[from])
                        values[base + plane + row + x] = Float(photo.pixels[from + 1])
                        values[base + 2 * plane + row + x] = Float(photo.pixels[from + 2])
                        from += 3
                    }
                }
            }
            lap("tiling")
            guard let output = try runtime.run(ModelRuntime.Tensor(shape: [batch.count, 3, height, width], values: values)).first else {
                throw ModelRuntime.Failure(step: "inferring", detail: "the model gave no output")
            }
            lap("inference")
            for (index, tile) in batch.enumerated() {
                let found = try decoder.decode(output, batchIndex: index)
                raw += found.map { detection in
                    var moved = detection
                    moved.box = detection.box.shifted(x: tile.x1, y: tile.y1)
                    moved.tile = first + index
                    return moved
                }
            }
            lap("inference")
        }
        let merged = merging.merge(raw)
        lap("merge")
        return Found(tiles: tiles, raw: raw, merged: merged, seconds: seconds)
    }
}
