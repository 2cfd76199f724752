import Foundation

/// Thompson sampling for new items (seed ML-006): each candidate's click rate is drawn from
/// its Beta(clicks + 1, views − clicks + 1) posterior and the best draws get the exploration
/// slots, so an item with few views gets its chance and loses it as evidence comes in.
enum Exploration {
    /// Items younger than this with fewer views than `fewViews` are candidates.
    static let newFor: TimeInterval = 48 * 3600
    static let fewViews = 50
    /// Where in "for you" the exploration slots go (0-based).
    static let slots = [2, 6]

    /// The keys of up to `count` candidates with the best draws.
    static func pick(_ candidates: [(key: String, clicks: Int, views: Int)], count: Int, random: inout some RandomNumberGenerator) -> [String] {
        candidates.map { candidate in
            let clicks = max(candidate.clicks, 0)
            let misses = max(candidate.views - clicks, 0)
            return (candidate.key, beta(Double(clicks) + 1, Double(misses) + 1, random: &random))
        }
        .sorted { $0.1 > $1.1 }.prefix(count).map(\.0)
    }

    /// A Beta(a, b) draw from two Gamma draws.
    static func beta(_ a: Double, _ b: Double, random: inout some RandomNumberGenerator) -> Double {
        let x = gamma(a, random: &random)
        let y = gamma(b, random: &random)
        return x + y > 0 ? x / (x + y) : 0.5
    }

    /// Marsaglia and Tsang's method; shape ≥ 1 here (counts + 1).
    static func gamma(_ shape: Double, random: inout some RandomNumberGenerator) -> Double {
        let d = shape - 1.0 / 3
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double
            var v: Double
            repeat {
                x = normal(random: &random)
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = Double.random(in: Double.ulpOfOne..<1, using: &random)
            if log(u) < 0.5 * x * x + d - d * v + d * log(v) { return d * v }
        }
    }

    /// Box–Muller.
    static func normal(random: inout some RandomNumberGenerator) -> Double {
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &random)
        let u2 = Double.random(in: 0..<1, using: &random)
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}

/// SplitMix64: the same seed, the same draws (a user's feed is stable while it is cached).
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    /// A seed from text (user and hour), stable across processes (Swift's hash is not).
    init(_ text: String) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        state = hash
    }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
