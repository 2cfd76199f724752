import Foundation

/// Per-variant results of an experiment, with 95 % confidence intervals, and whether the
/// stop rule says a winner is clear.
struct ExperimentResults: Codable, Sendable, Equatable {
    struct Interval: Codable, Sendable, Equatable {
        var value: Double
        var low: Double
        var high: Double
    }

    struct VariantResult: Codable, Sendable, Equatable {
        var name: String
        /// Users who saw the variant at least once.
        var users: Int
        var views: Int
        var clicks: Int
        var saves: Int
        /// Clicks per view (Wilson interval).
        var ctr: Interval
        /// Saves per exposed user (normal interval over users).
        var savesPerUser: Interval
    }

    struct Decision: Codable, Sendable, Equatable {
        /// A variant's CTR interval lies above every other's, each with enough users.
        var ready: Bool
        var leader: String?
        var reason: String
    }

    var experimentId: UUID
    var variants: [VariantResult]
    var decision: Decision
}

enum ExperimentStatistics {
    /// Fewer users than this in any variant, and no result is called.
    static let minimumUsers = 100
    static let z = 1.959964

    /// Wilson score interval for `successes` of `trials`.
    static func wilson(_ successes: Int, _ trials: Int) -> ExperimentResults.Interval {
        guard trials > 0 else { return .init(value: 0, low: 0, high: 0) }
        let n = Double(trials)
        let p = min(Double(successes) / n, 1)
        let denominator = 1 + z * z / n
        let centre = (p + z * z / (2 * n)) / denominator
        let margin = z * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot() / denominator
        return .init(value: p, low: max(0, centre - margin), high: min(1, centre + margin))
    }

    /// Mean and normal interval of per-user values (users without any count as 0).
    static func mean(_ values: [Int], users: Int) -> ExperimentResults.Interval {
        guard users > 0 else { return .init(value: 0, low: 0, high: 0) }
        let n = Double(users)
        let sum = Double(values.reduce(0, +))
        let mean = sum / n
        let squares = values.reduce(0.0) { $0 + Double($1 * $1) }
        let variance = users > 1 ? max(0, (squares - n * mean * mean) / (n - 1)) : 0
        let margin = z * (variance / n).squareRoot()
        return .init(value: mean, low: max(0, mean - margin), high: mean + margin)
    }

    /// The stop rule: every variant has `minimumUsers`, and one variant's CTR interval lies
    /// wholly above each other's.
    static func decide(_ variants: [ExperimentResults.VariantResult]) -> ExperimentResults.Decision {
        if let short = variants.first(where: { $0.users < minimumUsers }) {
            return .init(ready: false, leader: nil, reason: "variant \(short.name) has \(short.users) of the \(minimumUsers) users needed")
        }
        guard let best = variants.max(by: { $0.ctr.value < $1.ctr.value }) else {
            return .init(ready: false, leader: nil, reason: "no variants")
        }
        let separated = variants.allSatisfy { $0.name == best.name || best.ctr.low > $0.ctr.high }
        return separated
            ? .init(ready: true, leader: best.name, reason: "\(best.name)'s click-through rate is above every other variant's, at 95 % confidence")
            : .init(ready: false, leader: best.name, reason: "\(best.name) leads, but the intervals still overlap")
    }
}
