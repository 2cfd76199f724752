import Foundation

/// What a user's recent interactions say about them, built from the log (the last 90 days,
/// at most the latest 1,000 interactions): the weight of each category and source, what
/// they are reading, what they finished or dismissed.
struct UserProfile: Sendable, Equatable {
    /// One logged interaction, with what the catalogue says of its item (nil fields when the
    /// item is gone).
    struct Entry: Sendable, Equatable {
        var itemKey: String
        var kind: InteractionKind
        var progress: Int?
        var occurredAt: Date
        var title: String?
        var categories: [String]
        var provider: String?
    }

    var categories: [String: Double] = [:]
    /// The same weights split by the part of the user's day they were earned in (`daypart`).
    var dayparts: [[String: Double]] = Array(repeating: [:], count: 4)
    var providers: [String: Double] = [:]
    /// Latest reading progress per item.
    var progress: [String: (percent: Int, at: Date)] = [:]
    /// Items not to recommend again: read (opened, liked, shared, or read to the end) or dismissed.
    var excluded: Set<String> = []
    /// Per category, the item that most recently earned it weight: the "because you read X".
    var anchors: [String: String] = [:]

    static func == (a: UserProfile, b: UserProfile) -> Bool {
        a.categories == b.categories && a.dayparts == b.dayparts && a.providers == b.providers && a.excluded == b.excluded && a.anchors == b.anchors
            && a.progress.mapValues(\.percent) == b.progress.mapValues(\.percent)
    }

    /// A user with no history: cold start.
    var isEmpty: Bool { categories.isEmpty }

    /// How much each kind says about taste; a dismissal says "not this".
    static func weight(_ kind: InteractionKind, progress: Int?) -> Double {
        switch kind {
        case .view: 1
        case .click: 2
        case .progress: (progress ?? 0) >= 50 ? 3 : 1
        case .like: 4
        case .save, .share: 5
        case .dismiss: -4
        }
    }

    /// Read to the end: no longer "continue reading", and not recommended again.
    static let finished = 95
    /// Barely started does not count as reading.
    static let started = 5
    /// Taste fades: an interaction's weight halves every two weeks.
    static let halfLife: TimeInterval = 14 * 86400

    /// `entries` newest first.
    /// An IANA zone by its name ("Europe/Berlin", "UTC"); nil for abbreviations and anything unknown.
    static func zone(named name: String) -> TimeZone? {
        guard name.count <= 64, name.contains("/") || name == "UTC" else { return nil }
        return TimeZone(identifier: name)
    }

    static let zoneRule = "must be an IANA time zone such as Europe/Berlin"

    /// Night (0–6 h), morning, afternoon, evening in `timeZone`.
    static func daypart(of date: Date, in timeZone: TimeZone) -> Int {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar.component(.hour, from: date) / 6
    }

    init(entries: [Entry], now: Date, timeZone: TimeZone = .gmt) {
        for entry in entries {
            let decay = Scoring.decay(age: now.timeIntervalSince(entry.occurredAt), halfLife: Self.halfLife)
            let weight = Self.weight(entry.kind, progress: entry.progress) * decay
            let daypart = Self.daypart(of: entry.occurredAt, in: timeZone)
            for category in entry.categories {
                categories[category, default: 0] += weight
                dayparts[daypart][category, default: 0] += weight
                if weight > 0, anchors[category] == nil, let title = entry.title, !title.isEmpty { anchors[category] = title }
            }
            if let provider = entry.provider { providers[provider, default: 0] += weight }
            if entry.kind == .progress, let percent = entry.progress, progress[entry.itemKey] == nil {
                progress[entry.itemKey] = (percent, entry.occurredAt)
                if percent >= Self.finished { excluded.insert(entry.itemKey) }
            }
            // Opened (a click), liked or shared: read; dismissed: not wanted. A view is only an
            // impression, and a save is for later.
            if [.click, .like, .share, .dismiss].contains(entry.kind) { excluded.insert(entry.itemKey) }
        }
        categories = categories.filter { $0.value > 0 }
        dayparts = dayparts.map { $0.filter { $0.value > 0 } }
        providers = providers.filter { $0.value > 0 }
    }

    init() {}

    /// Items being read (progress 5–95 %), most recently touched first.
    var inProgress: [(key: String, percent: Int)] {
        progress.filter { (Self.started..<Self.finished).contains($0.value.percent) }
            .sorted { $0.value.at > $1.value.at }.map { ($0.key, $0.value.percent) }
    }

    /// The categories with the most weight, heaviest first.
    func topCategories(_ count: Int) -> [String] {
        categories.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(count).map(\.key)
    }

    func topProviders(_ count: Int) -> [String] {
        providers.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(count).map(\.key)
    }
}
