import Foundation

/// How many plants a location holds, from the detections of its photos. Two methods,
/// each with a 95 % interval; the session reports both and which it chose, and why.
///
/// - **Density**: detections per m² of the ground the photos show (the calibration's
///   bands, or else the whole location), times the location's surface. The interval is
///   the count's Poisson interval, scaled alike.
/// - **Bands**: the photo split into depth bands, each with the ground it shows: a
///   band's density is its detections over its area, so near and far bands compare
///   despite perspective. The estimate is the median band density times the surface
///   (a far band that misses small plants does not drag it down); the interval runs from
///   the lowest to the highest band density.
struct Estimation: Sendable, Equatable, Codable {
    enum Method: String, Sendable, Codable { case density, bands }

    struct Estimate: Sendable, Equatable, Codable {
        var method: Method
        var count: Int
        var low: Int
        var high: Int
    }

    /// Detected objects after merging.
    var detected: Int
    var density: Estimate?
    var bands: Estimate?
    var chosen: Method?
    var reason: String

    var best: Estimate? {
        switch chosen {
        case .density: density
        case .bands: bands
        case nil: nil
        }
    }

    /// `centres` are the detections' centre heights as fractions of the upright photo's
    /// height (0 is the top).
    static func estimate(centres: [Double], surfaceSquareMetres: Double?, calibration: Calibration?) -> Estimation {
        let detected = centres.count
        guard let surface = surfaceSquareMetres, surface > 0 else {
            return Estimation(detected: detected, chosen: nil, reason: "the location has no surface, so only the detections are counted")
        }
        let bandLayout = calibration?.bands ?? []
        let shown = bandLayout.isEmpty ? surface : bandLayout.reduce(0) { $0 + $1.areaSquareMetres }
        let scale = surface / shown
        let (low, high) = poisson95(detected)
        let density = Estimate(
            method: .density, count: Int((Double(detected) * scale).rounded()), low: Int((low * scale).rounded(.down)),
            high: Int((high * scale).rounded(.up)))
        guard bandLayout.count >= 2 else {
            return Estimation(
                detected: detected, density: density, chosen: .density,
                reason: bandLayout.isEmpty
                    ? "no depth bands are calibrated: the photos are taken to show the whole location"
                    : "one band only: its density is the photo's")
        }
        let densities = bandLayout.map { band in
            Double(centres.filter { $0 >= band.top && $0 < band.bottom }.count) / band.areaSquareMetres
        }
        let ordered = densities.sorted()
        let middle = ordered.count / 2
        let median = ordered.count % 2 == 1 ? ordered[middle] : (ordered[middle - 1] + ordered[middle]) / 2
        let bands = Estimate(
            method: .bands, count: Int((median * surface).rounded()), low: Int(((ordered.first ?? 0) * surface).rounded(.down)),
            high: Int(((ordered.last ?? 0) * surface).rounded(.up)))
        guard detected >= 20 else {
            return Estimation(
                detected: detected, density: density, bands: bands, chosen: .density,
                reason: "fewer than 20 detections: per-band densities are too noisy to prefer")
        }
        return Estimation(
            detected: detected, density: density, bands: bands, chosen: .bands,
            reason: "\(bandLayout.count) calibrated depth bands: the median band density is robust to far bands that miss small plants")
    }

    /// The exact (Garwood) 95 % interval of a Poisson count, by the Wilson–Hilferty
    /// approximation of the chi-square quantiles (within a few tenths for counts this small).
    static func poisson95(_ count: Int) -> (Double, Double) {
        func chiSquare(_ p: Double, _ k: Double) -> Double {
            let z = normalQuantile(p)
            let a = 2 / (9 * k)
            return k * pow(1 - a + z * sqrt(a), 3)
        }
        let n = Double(count)
        let low = count == 0 ? 0 : chiSquare(0.025, 2 * n) / 2
        let high = chiSquare(0.975, 2 * n + 2) / 2
        return (low, high)
    }

    /// The standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9).
    static func normalQuantile(_ p: Double) -> Double {
        let a = [
            -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01,
            2.506628277459239e+00,
        ]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [
            -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00,
            2.938163982698783e+00,
        ]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        if p < 0.02425 {
            let q = sqrt(-2 * log(p))
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        if p > 1 - 0.02425 { return -normalQuantile(1 - p) }
        let q = p - 0.5
        let r = q * q
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    }
}
