import Foundation

/// A generated tenant whose tastes are known, for offline evaluation: users each prefer a few
/// categories, items within a category follow a long tail of popularity, and items are read
/// mostly in the days after they are published. Deterministic for a seed.
struct PlantedDataset: Sendable {
    struct Parameters: Sendable {
        var users = 10_000
        var items = 20_000
        var interactions = 400_000
        var categories = 20
        var days = 60
        /// The share of a user's interactions outside their planted tastes.
        var noise = 0.1
        var seed: UInt64 = 7
    }

    struct Interaction: Sendable {
        var user: Int32
        var item: Int32
        var kind: InteractionKind
        var at: Date
    }

    let parameters: Parameters
    /// Per item: its category and when it was published.
    let categories: [Int]
    let published: [Date]
    let interactions: [Interaction]
    let end: Date

    init(_ parameters: Parameters, end: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        self.parameters = parameters
        self.end = end
        var random = SeededRandom(seed: parameters.seed)
        let span = Double(parameters.days) * 86400
        let categories = (0..<parameters.items).map { _ in Int.random(in: 0..<parameters.categories, using: &random) }
        let published = (0..<parameters.items).map { _ in end.addingTimeInterval(-Double.random(in: 0..<span, using: &random)) }
        // Within a category, the item of popularity rank r is drawn ∝ 1/(r+1): a long tail.
        var members = [[Int]](repeating: [], count: parameters.categories)
        for (item, category) in categories.enumerated() { members[category].append(item) }
        for category in members.indices { members[category].shuffle(using: &random) }
        let tails = members.map { Self.cumulative($0.indices.map { 1 / Double($0 + 1) }) }
        // Tastes: three categories weighted 6:3:1; activity: a long tail too, at least one each.
        let tastes = (0..<parameters.users).map { _ in
            Array((0..<parameters.categories).shuffled(using: &random).prefix(3))
        }
        let activity = Self.cumulative((0..<parameters.users).map { 1 / Double($0 % 1000 + 10) })
        let tasteShares = Self.cumulative([6, 3, 1])
        var interactions: [Interaction] = []
        interactions.reserveCapacity(parameters.interactions)
        for index in 0..<parameters.interactions {
            let user = index < parameters.users ? index : Self.draw(activity, &random)
            let category =
                Double.random(in: 0..<1, using: &random) < parameters.noise
                ? Int.random(in: 0..<parameters.categories, using: &random) : tastes[user][Self.draw(tasteShares, &random)]
            guard !members[category].isEmpty else { continue }
            let item = members[category][Self.draw(tails[category], &random)]
            // Read after publication, most within days: an exponential delay, mean two days.
            let delay = -log(Double.random(in: Double.ulpOfOne..<1, using: &random)) * 2 * 86400
            let at = min(published[item].addingTimeInterval(delay), end)
            let roll = Double.random(in: 0..<1, using: &random)
            let kind: InteractionKind = roll < 0.6 ? .view : roll < 0.85 ? .click : roll < 0.95 ? .like : .save
            interactions.append(Interaction(user: Int32(user), item: Int32(item), kind: kind, at: at))
        }
        self.categories = categories
        self.published = published
        self.interactions = interactions.sorted { $0.at < $1.at }
    }

    static func cumulative(_ weights: [Double]) -> [Double] {
        var total = 0.0
        return weights.map {
            total += $0
            return total
        }
    }

    /// An index drawn in proportion to the weights whose running sums are `cumulative`.
    static func draw(_ cumulative: [Double], _ random: inout SeededRandom) -> Int {
        let point = Double.random(in: 0..<(cumulative.last ?? 1), using: &random)
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] <= point { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

/// Each user's earlier 80 % of interactions to learn from, and the items of their later
/// 20 % they had not touched before, to be found.
struct EvaluationSplit: Sendable {
    let train: [PlantedDataset.Interaction]
    let held: [Int32: Set<Int32>]
    let cutoff: [Int32: Date]

    init(_ dataset: PlantedDataset, heldShare: Double = 0.2) {
        var byUser: [Int32: [PlantedDataset.Interaction]] = [:]
        for interaction in dataset.interactions { byUser[interaction.user, default: []].append(interaction) }
        var train: [PlantedDataset.Interaction] = []
        var held: [Int32: Set<Int32>] = [:]
        var cutoff: [Int32: Date] = [:]
        for (user, interactions) in byUser {
            let kept = interactions.count - Int((Double(interactions.count) * heldShare).rounded())
            guard kept > 0, kept < interactions.count else {
                train += interactions
                continue
            }
            let earlier = interactions.prefix(kept)
            train += earlier
            let seen = Set(earlier.map(\.item))
            let later = Set(interactions.suffix(from: kept).map(\.item)).subtracting(seen)
            if !later.isEmpty {
                held[user] = later
                cutoff[user] = interactions[kept].at
            }
        }
        self.train = train
        self.held = held
        self.cutoff = cutoff
    }
}
