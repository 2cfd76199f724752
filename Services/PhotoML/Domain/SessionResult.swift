import Foundation

/// What a completed session found: counts per class, the stock estimate, the warnings,
/// and how long each stage took.
struct SessionResult: Codable, Sendable, Equatable {
    struct ClassCount: Codable, Sendable, Equatable {
        var classId: Int
        var name: String
        var count: Int
    }

    var detected: Int
    var counts: [ClassCount]
    var estimation: Estimation
    var warnings: [SessionWarning]
    /// Seconds per stage, summed over the session's photos.
    var stages: [String: Double]
    /// With a product named: the stock adjustment the estimate proposes (accept it with
    /// `POST /v1/photo-sessions/{id}/accept`).
    var proposal: Proposal?

    struct Proposal: Codable, Sendable, Equatable {
        var productId: UUID
        var bookQuantity: Int
        var estimate: Int
        var delta: Int
    }
}

extension SessionResult {
    /// One photo's part of a session: its detections' classes and centre heights (as
    /// fractions of the upright photo), its warnings and stage times.
    struct Part: Sendable {
        var classes: [Int]
        var centres: [Double]
        var warnings: [SessionWarning]
        var stages: [String: Double]
    }

    /// The session's result from its photos. Photos of one location shot in parts each
    /// show an equal share of it: each is estimated against that share of the surface, and
    /// the estimates add up.
    static func combine(
        _ parts: [Part], classNames: [String], surfaceSquareMetres: Double?, calibration: Calibration?, bookQuantity: Int?, meanScore: Double?
    ) -> SessionResult {
        let share = surfaceSquareMetres.map { $0 / Double(max(1, parts.count)) }
        let estimates = parts.map { Estimation.estimate(centres: $0.centres, surfaceSquareMetres: share, calibration: calibration) }
        func sum(_ pick: (Estimation) -> Estimation.Estimate?, _ method: Estimation.Method) -> Estimation.Estimate? {
            let picked = estimates.compactMap(pick)
            guard picked.count == estimates.count, !picked.isEmpty else { return nil }
            return Estimation.Estimate(
                method: method, count: picked.reduce(0) { $0 + $1.count }, low: picked.reduce(0) { $0 + $1.low },
                high: picked.reduce(0) { $0 + $1.high })
        }
        let chosen: Estimation.Method? =
            estimates.allSatisfy { $0.chosen == .bands } ? .bands : (estimates.allSatisfy { $0.chosen != nil } ? .density : nil)
        let detected = parts.reduce(0) { $0 + $1.centres.count }
        let estimation = Estimation(
            detected: detected, density: sum(\.density, .density), bands: sum(\.bands, .bands), chosen: chosen,
            reason: estimates.first?.reason ?? "no photos")
        var counts: [Int: Int] = [:]
        for part in parts { for classID in part.classes { counts[classID, default: 0] += 1 } }
        var stages: [String: Double] = [:]
        for part in parts { stages.merge(part.stages) { $0 + $1 } }
        // One warning per code: the first photo's detail.
        var warnings: [SessionWarning] = []
        for warning in parts.flatMap(\.warnings) where !warnings.contains(where: { $0.code == warning.code }) {
            warnings.append(warning)
        }
        if let meanScore, detected > 0, meanScore < SessionWarning.lowConfidence {
            warnings.append(.init(code: .lowMeanConfidence, detail: String(format: "the detections' mean confidence is %.2f", meanScore)))
        }
        if surfaceSquareMetres == nil || (calibration?.bands ?? []).isEmpty, !warnings.contains(where: { $0.code == .noCalibration }) {
            warnings.append(
                .init(code: .noCalibration, detail: surfaceSquareMetres == nil ? "the location has no surface" : "the location has no depth bands"))
        }
        if let estimate = estimation.best?.count, let book = bookQuantity,
            abs(Double(estimate - book)) > max(Double(book) * SessionWarning.bookTolerance, 10)
        {
            warnings.append(.init(code: .farFromBook, detail: "the estimate is \(estimate), the book says \(book)"))
        }
        return SessionResult(
            detected: detected,
            counts: counts.keys.sorted().map {
                ClassCount(classId: $0, name: classNames.indices.contains($0) ? classNames[$0] : "class \($0)", count: counts[$0] ?? 0)
            },
            estimation: estimation, warnings: warnings, stages: stages, proposal: nil)
    }
}
