import Foundation

/// Top-K ranking quality against the items a user went on to touch (binary relevance).
enum RankingMetrics {
    /// Found ÷ what could be found in K: hits ÷ min(K, |held|).
    static func recall(_ ranked: [Int32], held: Set<Int32>, k: Int) -> Double {
        guard !held.isEmpty else { return 0 }
        let hits = ranked.prefix(k).filter { held.contains($0) }.count
        return Double(hits) / Double(min(k, held.count))
    }

    /// Discounted gain of the hits ÷ that of a perfect top K.
    static func ndcg(_ ranked: [Int32], held: Set<Int32>, k: Int) -> Double {
        guard !held.isEmpty else { return 0 }
        var gain = 0.0
        for (position, item) in ranked.prefix(k).enumerated() where held.contains(item) { gain += 1 / log2(Double(position) + 2) }
        let ideal = (0..<min(k, held.count)).reduce(0.0) { $0 + 1 / log2(Double($1) + 2) }
        return gain / ideal
    }

    /// The `k` best indices by `scores`, skipping those `excluded` says to.
    static func top(_ scores: [Float], k: Int, excluded: (Int) -> Bool) -> [Int32] {
        var best: [(Int32, Float)] = []
        best.reserveCapacity(k + 1)
        var floor = -Float.infinity
        for (index, score) in scores.enumerated() where score > floor || best.count < k {
            if excluded(index) { continue }
            let position = best.firstIndex { $0.1 < score } ?? best.count
            best.insert((Int32(index), score), at: position)
            if best.count > k { best.removeLast() }
            if best.count == k { floor = best[k - 1].1 }
        }
        return best.map(\.0)
    }
}
