import Foundation
import Testing

@testable import PhotoML

@Suite("estimation")
struct EstimationTests {
    @Test("without bands the photo shows the whole location: the estimate is the count, with its Poisson interval")
    func densityOnly() {
        let result = Estimation.estimate(centres: Array(repeating: 0.5, count: 100), surfaceSquareMetres: 12, calibration: nil)
        #expect(result.chosen == .density)
        #expect(result.best?.count == 100)
        // Garwood's exact 95 % interval for 100 is 81.36 … 121.63.
        #expect(result.best?.low == 81)
        #expect(result.best?.high == 122)
        #expect(result.bands == nil)
    }

    @Test("bands scale each band's detections by the ground it shows; the median density times the surface is chosen")
    func bands() {
        // Near band (bottom half) shows 2 m², far band (top half) 6 m²: 40 and 60 detections,
        // 20 and 10 per m²; a middle band of 4 m² with 48 (12 per m²).
        let calibration = Calibration(
            bands: [
                .init(top: 0, bottom: 0.25, areaSquareMetres: 6), .init(top: 0.25, bottom: 0.5, areaSquareMetres: 4),
                .init(top: 0.5, bottom: 1, areaSquareMetres: 2),
            ])
        let centres = Array(repeating: 0.1, count: 60) + Array(repeating: 0.3, count: 48) + Array(repeating: 0.8, count: 40)
        let result = Estimation.estimate(centres: centres, surfaceSquareMetres: 24, calibration: calibration)
        #expect(result.chosen == .bands)
        #expect(result.bands == Estimation.Estimate(method: .bands, count: 288, low: 240, high: 480))
        // Density: 148 over the 12 m² shown, times 24.
        #expect(result.density?.count == 296)
    }

    @Test("few detections prefer the density method; a location without surface is only counted")
    func fallbacks() {
        let calibration = Calibration(bands: [.init(top: 0, bottom: 0.5, areaSquareMetres: 3), .init(top: 0.5, bottom: 1, areaSquareMetres: 1)])
        let few = Estimation.estimate(centres: [0.2, 0.7, 0.9], surfaceSquareMetres: 8, calibration: calibration)
        #expect(few.chosen == .density)
        #expect(few.bands != nil)
        let unscaled = Estimation.estimate(centres: [0.2, 0.7], surfaceSquareMetres: nil, calibration: calibration)
        #expect(unscaled.chosen == nil)
        #expect(unscaled.detected == 2)
        #expect(Estimation.poisson95(0).0 == 0)
    }

    @Test("warnings: low confidence, a photo smaller than a tile, seam cuts, no calibration, far from the book")
    func warnings() {
        let slicing = Slicing()
        let tiles = slicing.tiles(width: 1000, height: 400)
        let weak = [Detection(box: Box(x1: 10, y1: 10, x2: 30, y2: 30), score: 0.3, classID: 0)]
        let atSeam = Detection(box: Box(x1: 490, y1: 100, x2: 512, y2: 120), score: 0.9, classID: 0, tile: 0)
        let inside = Detection(box: Box(x1: 100, y1: 100, x2: 120, y2: 120), score: 0.9, classID: 0, tile: 0)
        let codes = SessionWarning.collect(
            merged: weak, tileDetections: [atSeam, atSeam, inside], tiles: tiles, slicing: slicing, photoWidth: 1000, photoHeight: 400,
            calibration: nil, surfaceSquareMetres: 10, estimate: 150, bookQuantity: 100
        ).map(\.code)
        #expect(codes == [.lowMeanConfidence, .imageSmallerThanTile, .manySeamCuts, .noCalibration, .farFromBook])
        let calm = SessionWarning.collect(
            merged: [inside], tileDetections: [inside], tiles: tiles, slicing: slicing, photoWidth: 4000, photoHeight: 3000,
            calibration: Calibration(bands: [.init(top: 0, bottom: 1, areaSquareMetres: 10)]), surfaceSquareMetres: 10, estimate: 105,
            bookQuantity: 100)
        #expect(calm.isEmpty)
    }
}
