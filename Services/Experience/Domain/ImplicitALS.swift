import Dispatch
import Foundation

/// A user × item matrix of interaction strengths, stored by row (user) and by column (item),
/// the two views alternating least squares walks.
struct InteractionMatrix: Sendable {
    struct Sparse: Sendable {
        /// Row r's entries are `indices[starts[r]..<starts[r + 1]]` with `values` beside them.
        var starts: [Int]
        var indices: [Int32]
        var values: [Float]

        var rows: Int { starts.count - 1 }
    }

    let users: Int
    let items: Int
    let byUser: Sparse
    let byItem: Sparse

    /// `entries` as (user, item, strength); repeated pairs add up.
    init(users: Int, items: Int, entries: [(user: Int32, item: Int32, strength: Float)]) {
        self.users = users
        self.items = items
        byUser = Self.compress(rows: users, entries.map { ($0.user, $0.item, $0.strength) })
        byItem = Self.compress(rows: items, entries.map { ($0.item, $0.user, $0.strength) })
    }

    var count: Int { byUser.indices.count }

    private static func compress(rows: Int, _ entries: [(Int32, Int32, Float)]) -> Sparse {
        let sorted = entries.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
        var starts = [Int](repeating: 0, count: rows + 1)
        var indices: [Int32] = []
        var values: [Float] = []
        indices.reserveCapacity(sorted.count)
        values.reserveCapacity(sorted.count)
        var previous: (Int32, Int32)?
        for (row, column, value) in sorted {
            if let previous, previous == (row, column) {
                values[values.count - 1] += value
                continue
            }
            starts[Int(row) + 1] += 1
            indices.append(column)
            values.append(value)
            previous = (row, column)
        }
        for row in 0..<rows { starts[row + 1] += starts[row] }
        return Sparse(starts: starts, indices: indices, values: values)
    }
}

/// Implicit-feedback matrix factorisation (Hu, Koren and Volinsky, 2008): every user × item
/// pair is a preference (1 where the user interacted, 0 elsewhere) weighted by a confidence
/// `1 + alpha · strength`; user and item factors are solved in turn, each row by a few
/// conjugate-gradient steps warm-started from its last value (Takács et al.), which costs
/// O(nnz · k + rows · k²) per sweep instead of a k³ solve per row.
struct ImplicitALS: Sendable {
    struct Parameters: Codable, Sendable, Equatable {
        var factors = 32
        var regularization: Float = 0.05
        var alpha: Float = 5
        var iterations = 15
        var conjugateGradientSteps = 3
        var seed: UInt64 = 42

        /// With as many factors as a small tenant has items, the model can give each item a
        /// dimension of its own and memorise who read what instead of learning tastes: at most
        /// a tenth of the smaller side, at least two.
        func fitted(users: Int, items: Int) -> Parameters {
            var fitted = self
            fitted.factors = min(factors, max(2, min(users, items) / 10))
            return fitted
        }
    }

    /// Row-major: user u's factors are `users[u * k ..< (u + 1) * k]`.
    var users: [Float]
    var items: [Float]
    let k: Int

    /// Trains on `matrix`; both cores share each half-sweep.
    static func train(_ matrix: InteractionMatrix, _ parameters: Parameters) -> ImplicitALS {
        let k = parameters.factors
        var random = SeededRandom(seed: parameters.seed)
        // Small random starts, as the `implicit` package does: zero would stay zero.
        var users = (0..<(matrix.users * k)).map { _ in Float.random(in: 0..<0.01, using: &random) }
        var items = (0..<(matrix.items * k)).map { _ in Float.random(in: 0..<0.01, using: &random) }
        for _ in 0..<parameters.iterations {
            solve(&users, fixed: items, rows: matrix.byUser, k: k, parameters)
            solve(&items, fixed: users, rows: matrix.byItem, k: k, parameters)
        }
        return ImplicitALS(users: users, items: items, k: k)
    }

    /// One half-sweep: every row of `solving` given `fixed`.
    static func solve(_ solving: inout [Float], fixed: [Float], rows: InteractionMatrix.Sparse, k: Int, _ parameters: Parameters) {
        let gram = gramian(fixed, k: k, regularization: parameters.regularization)
        let chunks = max(1, min(64, rows.rows / 256))
        solving.withUnsafeMutableBufferPointer { solved in
            fixed.withUnsafeBufferPointer { y in
                gram.withUnsafeBufferPointer { gram in
                    guard let x = solved.baseAddress, let y = y.baseAddress, let gram = gram.baseAddress else { return }
                    let shared = SweepBuffers(x: x, y: y, gram: gram)
                    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                        let (x, y, gram) = (shared.x, shared.y, shared.gram)
                        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 3 * k)
                        defer { scratch.deallocate() }
                        for row in (rows.rows * chunk / chunks)..<(rows.rows * (chunk + 1) / chunks) {
                            conjugateGradient(row: row, x: x + row * k, y: y, gram: gram, rows: rows, k: k, parameters, scratch: scratch)
                        }
                    }
                }
            }
        }
    }

    /// The buffers one half-sweep's threads share: each chunk writes only its own rows of
    /// `x` and reads `y` and `gram`, which nobody writes meanwhile.
    struct SweepBuffers: @unchecked Sendable {
        let x: UnsafeMutablePointer<Float>
        let y: UnsafePointer<Float>
        let gram: UnsafePointer<Float>
    }

    /// `YᵀY + λI`, k × k.
    static func gramian(_ y: [Float], k: Int, regularization: Float) -> [Float] {
        var gram = [Float](repeating: 0, count: k * k)
        let count = y.count / k
        for row in 0..<count {
            let base = row * k
            for a in 0..<k {
                let value = y[base + a]
                if value == 0 { continue }
                for b in a..<k { gram[a * k + b] += value * y[base + b] }
            }
        }
        for a in 0..<k {
            gram[a * k + a] += regularization
            for b in 0..<a { gram[a * k + b] = gram[b * k + a] }
        }
        return gram
    }

    /// Solves `(YᵀY + λI + Yᵀ(Cᵤ − I)Y) x = YᵀCᵤp(u)` for one row, in place, by
    /// `conjugateGradientSteps` steps from its current value; `scratch` holds 3k floats.
    static func conjugateGradient(
        row: Int, x: UnsafeMutablePointer<Float>, y: UnsafePointer<Float>, gram: UnsafePointer<Float>, rows: InteractionMatrix.Sparse, k: Int,
        _ parameters: Parameters, scratch: UnsafeMutablePointer<Float>
    ) {
        let (r, p, ap) = (scratch, scratch + k, scratch + 2 * k)
        let entries = rows.starts[row]..<rows.starts[row + 1]
        let alpha = parameters.alpha
        // r = b − A·x, the residual.
        multiply(gram, x, into: ap, k: k)
        for a in 0..<k { r[a] = -ap[a] }
        for entry in entries {
            let item = y + Int(rows.indices[entry]) * k
            let confidence = 1 + alpha * rows.values[entry]
            let scale = confidence - (confidence - 1) * dot(item, x, k)
            for a in 0..<k { r[a] += scale * item[a] }
        }
        p.update(from: r, count: k)
        var before = dot(r, r, k)
        for _ in 0..<parameters.conjugateGradientSteps {
            if before < 1e-20 { break }
            multiply(gram, p, into: ap, k: k)
            for entry in entries {
                let item = y + Int(rows.indices[entry]) * k
                let scale = alpha * rows.values[entry] * dot(item, p, k)
                for a in 0..<k { ap[a] += scale * item[a] }
            }
            let curvature = dot(p, ap, k)
            guard curvature > 0 else { break }
            let step = before / curvature
            for a in 0..<k {
                x[a] += step * p[a]
                r[a] -= step * ap[a]
            }
            let after = dot(r, r, k)
            for a in 0..<k { p[a] = r[a] + after / before * p[a] }
            before = after
        }
    }

    static func multiply(_ matrix: UnsafePointer<Float>, _ vector: UnsafePointer<Float>, into result: UnsafeMutablePointer<Float>, k: Int) {
        for a in 0..<k { result[a] = dot(matrix + a * k, vector, k) }
    }

    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ k: Int) -> Float {
        var sum: Float = 0
        for index in 0..<k { sum += a[index] * b[index] }
        return sum
    }

    /// The predicted preference of `user` for `item`.
    func score(user: Int, item: Int) -> Float {
        var sum: Float = 0
        for a in 0..<k { sum += users[user * k + a] * items[item * k + a] }
        return sum
    }
}
