import Foundation

/// "More like this": first the items the same readers read (item-item co-occurrence), scored
/// by the share of the item's readers who read them too; then, to fill the list, the newest
/// of its categories, scored by category overlap and freshness.
enum SimilarItems {
    static let count = 10
    /// Fewer readers in common than this is chance, not likeness.
    static let minimumTogether = 2

    static func rank(
        of item: Item, neighbours: [(Item, together: Int)], readers: Int, sameCategories: [Item], now: Date, halfLifeHours: Double
    ) -> [Recommendation] {
        var picked: [Recommendation] = []
        var seen: Set<String> = [item.key]
        for (neighbour, together) in neighbours where together >= minimumTogether && readers > 0 {
            guard seen.insert(neighbour.key).inserted else { continue }
            picked.append(
                Recommendation(item: neighbour, score: Double(together) / Double(readers), reason: "readers of \"\(item.title)\" also read this"))
            if picked.count == count { return picked }
        }
        let fill = sameCategories.filter { !seen.contains($0.key) }.map { other -> Recommendation in
            let overlap = Scoring.jaccard(Set(item.categories), Set(other.categories))
            let freshness = Scoring.freshness(published: other.publishedAt, now: now, halfLifeHours: halfLifeHours)
            let shared = other.categories.first { item.categories.contains($0) } ?? other.categories.first ?? ""
            return Recommendation(item: other, score: 0.5 * overlap * (0.5 + 0.5 * freshness), reason: "more in \(shared)")
        }
        return picked + fill.sorted { $0.score > $1.score }.prefix(count - picked.count)
    }
}
