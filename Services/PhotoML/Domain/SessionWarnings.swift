import Foundation

/// Why a completed session's result deserves a second look: a code for machines, a
/// detail for people.
struct SessionWarning: Sendable, Equatable, Codable {
    enum Code: String, Sendable, Codable {
        case lowMeanConfidence = "low_mean_confidence"
        case imageSmallerThanTile = "image_smaller_than_tile"
        case manySeamCuts = "many_seam_cuts"
        case noCalibration = "no_calibration"
        case farFromBook = "estimate_far_from_book"
    }

    var code: Code
    var detail: String

    static let lowConfidence = 0.4
    /// The share of tile detections touching an inner tile edge above which seams cut many plants.
    static let seamShare = 0.25
    /// How far an estimate may stray from the book quantity: this share, or 10 plants.
    static let bookTolerance = 0.25

    /// What a session's outcome warns of. `tileDetections` are the detections before
    /// merging, with the tile each came from.
    static func collect(
        merged: [Detection], tileDetections: [Detection], tiles: [Tile], slicing: Slicing, photoWidth: Int, photoHeight: Int,
        calibration: Calibration?, surfaceSquareMetres: Double?, estimate: Int?, bookQuantity: Int?
    ) -> [SessionWarning] {
        var warnings: [SessionWarning] = []
        if !merged.isEmpty {
            let mean = merged.reduce(0) { $0 + $1.score } / Double(merged.count)
            if mean < lowConfidence {
                warnings.append(
                    .init(
                        code: .lowMeanConfidence, detail: String(format: "the detections' mean confidence is %.2f (below %.2f)", mean, lowConfidence))
                )
            }
        }
        if photoWidth < slicing.tileWidth || photoHeight < slicing.tileHeight {
            warnings.append(
                .init(
                    code: .imageSmallerThanTile,
                    detail: "the photo is \(photoWidth) × \(photoHeight), smaller than a \(slicing.tileWidth) × \(slicing.tileHeight) tile"))
        }
        let cut = tileDetections.filter { detection in
            guard let index = detection.tile, tiles.indices.contains(index) else { return false }
            return touchesInnerEdge(detection.box, tile: tiles[index], photoWidth: photoWidth, photoHeight: photoHeight)
        }.count
        if !tileDetections.isEmpty, Double(cut) / Double(tileDetections.count) > seamShare {
            warnings.append(.init(code: .manySeamCuts, detail: "\(cut) of \(tileDetections.count) tile detections touch a seam between tiles"))
        }
        if surfaceSquareMetres == nil || (calibration?.bands ?? []).isEmpty {
            warnings.append(
                .init(
                    code: .noCalibration,
                    detail: surfaceSquareMetres == nil
                        ? "the location has no surface: the count is not scaled to the location"
                        : "the location has no depth bands: the photos are taken to show all of it"))
        }
        if let estimate, let book = bookQuantity {
            let allowed = max(Double(book) * bookTolerance, 10)
            if abs(Double(estimate - book)) > allowed {
                warnings.append(.init(code: .farFromBook, detail: "the estimate is \(estimate), the book says \(book)"))
            }
        }
        return warnings
    }

    /// Within 2 px of an edge of its tile that is not an edge of the photo.
    static func touchesInnerEdge(_ box: Box, tile: Tile, photoWidth: Int, photoHeight: Int) -> Bool {
        let margin = 2.0
        let left = tile.x1 > 0 && box.x1 <= Double(tile.x1) + margin
        let top = tile.y1 > 0 && box.y1 <= Double(tile.y1) + margin
        let right = tile.x2 < photoWidth && box.x2 >= Double(tile.x2) - margin
        let bottom = tile.y2 < photoHeight && box.y2 >= Double(tile.y2) - margin
        return left || top || right || bottom
    }
}
