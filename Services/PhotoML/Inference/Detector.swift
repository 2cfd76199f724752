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
    /// Also run the whole photo shrunk to one tile, and merge what it finds with the tiles'
    /// (objects larger than a tile, which tiles only see in pieces).
    var fullImagePass = false

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
            let values = Self.planes(of: photo, batch)
            lap("tiling")
            let found = try infer(values, batch: batch.count, width: batch[0].x2 - batch[0].x1, height: batch[0].y2 - batch[0].y1)
            for (index, tile) in batch.enumerated() {
                raw += found[index].map { detection in
                    var moved = detection
                    moved.box = detection.box.shifted(x: tile.x1, y: tile.y1)
                    moved.polygon = detection.polygon.map { Self.moved($0, x: Double(tile.x1), y: Double(tile.y1), scale: 1) }
                    moved.tile = first + index
                    return moved
                }
            }
            lap("inference")
        }
        if fullImagePass {
            raw += try wholePhoto(photo)
            lap("full_image")
        }
        let merged = merging.merge(raw)
        lap("merge")
        return Found(tiles: tiles, raw: raw, merged: merged, seconds: seconds)
    }

    /// The tiles' pixels as the model takes them: per tile, the R, G and B planes.
    static func planes(of photo: DecodedPhoto, _ batch: [Tile]) -> [Float] {
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
        return values
    }

    /// Each image's detections, in its own pixels; with a segmenting model, each with its
    /// outline.
    func infer(_ values: [Float], batch: Int, width: Int, height: Int) throws -> [[Detection]] {
        let outputs = try runtime.run(ModelRuntime.Tensor(shape: [batch, 3, height, width], values: values))
        guard let output = outputs.first else { throw ModelRuntime.Failure(step: "inferring", detail: "the model gave no output") }
        return try (0..<batch).map { index in
            let found = try decoder.decode(output, batchIndex: index)
            guard decoder.masks > 0 else { return found }
            guard outputs.count > 1 else {
                throw ModelRuntime.Failure(step: "inferring", detail: "a segmenting model gave no prototype masks")
            }
            let outline = try decoder.outline(outputs[1], batchIndex: index, inputWidth: width, inputHeight: height)
            return found.map { detection in
                var outlined = detection
                outlined.polygon = detection.coefficients.flatMap { outline.polygon(coefficients: $0, box: detection.box) }
                outlined.coefficients = nil
                return outlined
            }
        }
    }

    /// The photo shrunk to fit one tile (grey around it), its detections scaled back up;
    /// their tile is nil.
    func wholePhoto(_ photo: DecodedPhoto) throws -> [Detection] {
        let (width, height) = (slicing.tileWidth, slicing.tileHeight)
        let small = photo.shrunk(toFit: width, height)
        var canvas = DecodedPhoto(width: width, height: height, pixels: [UInt8](repeating: 114, count: width * height * 3))
        for y in 0..<small.height {
            let from = y * small.width * 3
            let to = y * width * 3
            canvas.pixels.replaceSubrange(to..<(to + small.width * 3), with: small.pixels[from..<(from + small.width * 3)])
        }
        let scale = Double(photo.width) / Double(small.width)
        let found = try infer(Self.planes(of: canvas, [Tile(x1: 0, y1: 0, x2: width, y2: height)]), batch: 1, width: width, height: height)
        return found[0].map { detection in
            var scaled = detection
            let box = detection.box
            scaled.box = Box(x1: box.x1 * scale, y1: box.y1 * scale, x2: box.x2 * scale, y2: box.y2 * scale)
            scaled.polygon = detection.polygon.map { Self.moved($0, x: 0, y: 0, scale: scale) }
            scaled.tile = nil
            return scaled
        }
    }

    /// x, y pairs scaled, then shifted.
    static func moved(_ polygon: [Double], x: Double, y: Double, scale: Double) -> [Double] {
        polygon.enumerated().map { index, value in value * scale + (index % 2 == 0 ? x : y) }
    }
}
