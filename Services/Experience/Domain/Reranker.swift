import Foundation

/// What the "for you" ranking knows of one item for one user, each in 0…1: the heuristic's
/// components, and what a learned reranker weighs instead.
struct RankingFeatures: Codable, Sendable, Equatable {
    var affinity = 0.0
    var freshness = 0.0
    var popularity = 0.0
    var collaborative = 0.0
    var timeOfDay = 0.0

    static let names = ["affinity", "freshness", "popularity", "collaborative", "timeOfDay"]

    var vector: [Double] { [affinity, freshness, popularity, collaborative, timeOfDay] }

    init(affinity: Double = 0, freshness: Double = 0, popularity: Double = 0, collaborative: Double = 0, timeOfDay: Double = 0) {
        self.affinity = affinity
        self.freshness = freshness
        self.popularity = popularity
        self.collaborative = collaborative
        self.timeOfDay = timeOfDay
    }

    init?(_ vector: [Double]) {
        guard vector.count == Self.names.count else { return nil }
        self.init(affinity: vector[0], freshness: vector[1], popularity: vector[2], collaborative: vector[3], timeOfDay: vector[4])
    }

    /// The heuristic score: the experiment's (or default) weights.
    func score(_ weights: RankingWeights) -> Double {
        Scoring.score(
            affinity: affinity, freshness: freshness, popularity: popularity, collaborative: collaborative, timeOfDay: timeOfDay, weights: weights)
    }
}

/// A learned reranker (seed ML-002): pairwise logistic regression (RankNet with a linear
/// scorer) over `RankingFeatures`. Trained on pairs of one user's items where the user engaged
/// with the first and not the second: it learns weights w so that P(first ≻ second) =
/// σ(w · (x₁ − x₂)), by gradient descent on the L2-regularised log loss.
struct PairwiseReranker: Codable, Sendable, Equatable {
    var weights: [Double]

    func score(_ features: RankingFeatures) -> Double {
        zip(weights, features.vector).reduce(0) { $0 + $1.0 * $1.1 }
    }

    struct Training: Sendable {
        var model: PairwiseReranker
        /// Share of the training pairs the model orders right.
        var accuracy: Double
        var pairs: Int
    }

    /// Newton's method on the mean log loss: a handful of features, so each step solves a tiny
    /// linear system, and a dozen steps converge whatever the features' scales.
    static func train(pairs: [(better: RankingFeatures, worse: RankingFeatures)], regularization: Double = 1e-3, iterations: Int = 15) -> Training {
        let dimensions = RankingFeatures.names.count
        let differences = pairs.map { pair in zip(pair.better.vector, pair.worse.vector).map { $0 - $1 } }
        var weights = [Double](repeating: 0, count: dimensions)
        guard !differences.isEmpty else { return Training(model: PairwiseReranker(weights: weights), accuracy: 0, pairs: 0) }
        let count = Double(differences.count)
        for _ in 0..<iterations {
            var gradient = weights.map { regularization * $0 }
            var hessian = (0..<dimensions).map { row in (0..<dimensions).map { $0 == row ? regularization : 0 } }
            for difference in differences {
                let margin = zip(weights, difference).reduce(0) { $0 + $1.0 * $1.1 }
                // loss log(1 + e^(−m)): gradient −σ(−m)·d, curvature σ(m)σ(−m)·d·dᵀ
                let pull = 1 / (1 + exp(margin))
                let curvature = pull * (1 - pull) / count
                for row in 0..<dimensions {
                    gradient[row] -= pull * difference[row] / count
                    for column in 0..<dimensions { hessian[row][column] += curvature * difference[row] * difference[column] }
                }
            }
            guard let step = solve(hessian, gradient) else { break }
            for index in 0..<dimensions { weights[index] -= step[index] }
        }
        let right = differences.filter { zip(weights, $0).reduce(0) { $0 + $1.0 * $1.1 } > 0 }.count
        return Training(model: PairwiseReranker(weights: weights), accuracy: Double(right) / count, pairs: differences.count)
    }

    /// x with A·x = b, by Gaussian elimination with partial pivoting; nil when A is singular.
    static func solve(_ a: [[Double]], _ b: [Double]) -> [Double]? {
        var a = a
        var b = b
        let n = b.count
        for column in 0..<n {
            guard let pivot = (column..<n).max(by: { abs(a[$0][column]) < abs(a[$1][column]) }), abs(a[pivot][column]) > 1e-12 else { return nil }
            a.swapAt(column, pivot)
            b.swapAt(column, pivot)
            for row in (column + 1)..<n {
                let factor = a[row][column] / a[column][column]
                for k in column..<n { a[row][k] -= factor * a[column][k] }
                b[row] -= factor * b[column]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for row in stride(from: n - 1, through: 0, by: -1) {
            let rest = ((row + 1)..<n).reduce(0) { $0 + a[row][$1] * x[$1] }
            x[row] = (b[row] - rest) / a[row][row]
        }
        return x
    }
}
