import Foundation

/// How often users did each countable thing with an item (reading progress is not counted).
struct Counts: Codable, Sendable, Equatable {
    var views = 0
    var clicks = 0
    var likes = 0
    var saves = 0
    var shares = 0
    var dismissals = 0

    static let names = ["views", "clicks", "likes", "saves", "shares", "dismissals"]

    /// One interaction of `kind`, counted; nil for kinds no counter holds.
    init?(counting kind: InteractionKind) {
        switch kind {
        case .view: views = 1
        case .click: clicks = 1
        case .like: likes = 1
        case .save: saves = 1
        case .share: shares = 1
        case .dismiss: dismissals = 1
        case .progress: return nil
        }
    }

    init(views: Int = 0, clicks: Int = 0, likes: Int = 0, saves: Int = 0, shares: Int = 0, dismissals: Int = 0) {
        self.views = views
        self.clicks = clicks
        self.likes = likes
        self.saves = saves
        self.shares = shares
        self.dismissals = dismissals
    }

    var values: [Int] { [views, clicks, likes, saves, shares, dismissals] }
    var isZero: Bool { values.allSatisfy { $0 == 0 } }

    static func + (a: Counts, b: Counts) -> Counts {
        Counts(
            views: a.views + b.views, clicks: a.clicks + b.clicks, likes: a.likes + b.likes, saves: a.saves + b.saves, shares: a.shares + b.shares,
            dismissals: a.dismissals + b.dismissals)
    }

    static func - (a: Counts, b: Counts) -> Counts {
        Counts(
            views: a.views - b.views, clicks: a.clicks - b.clicks, likes: a.likes - b.likes, saves: a.saves - b.saves, shares: a.shares - b.shares,
            dismissals: a.dismissals - b.dismissals)
    }
}

/// Where a count lands: an item's UTC clock hour.
struct CountBucket: Hashable, Sendable, Comparable {
    var itemKey: String
    var hour: Date

    /// The UTC clock hour `date` falls in.
    static func hour(of date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 3600).rounded(.down) * 3600)
    }

    static func < (a: CountBucket, b: CountBucket) -> Bool {
        (a.itemKey, a.hour) < (b.itemKey, b.hour)
    }

    /// A batch of interactions summed per bucket, in key order (the order rows are locked
    /// in, so two batches never wait on each other in a circle).
    static func sum(_ interactions: [Interaction]) -> [(CountBucket, Counts)] {
        var sums: [CountBucket: Counts] = [:]
        for interaction in interactions {
            guard let counted = Counts(counting: interaction.kind) else { continue }
            let bucket = CountBucket(itemKey: interaction.itemKey, hour: hour(of: interaction.occurredAt))
            sums[bucket] = sums[bucket, default: Counts()] + counted
        }
        return sums.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}

/// An item's counts over rolling windows, made of whole UTC hours: "1h" is the current clock
/// hour, "24h" it and the 23 before, "7d" the 168 hours up to now.
struct ItemCounters: Codable, Sendable, Equatable {
    var itemKey: String
    var lastHour: Counts
    var lastDay: Counts
    var lastWeek: Counts
    var allTime: Counts
    /// Clicks per view, pulled towards the tenant's own rate while views are few.
    var smoothedCTR: Double
}

enum Popularity {
    /// Views' worth of the prior: an item with few views sits near the tenant's rate.
    static let priorStrength = 20.0

    /// Bayesian-smoothed click-through rate: a Beta prior with mean `prior` and weight
    /// `strength` views, updated by the item's own clicks and views.
    static func smoothedCTR(clicks: Int, views: Int, prior: Double, strength: Double = priorStrength) -> Double {
        let prior = min(max(prior, 0), 1)
        return (Double(clicks) + prior * strength) / (Double(max(views, clicks)) + strength)
    }
}
