import Foundation
import Testing

@testable import Experience

@Suite("scoring components")
struct ScoringTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("freshness halves every half-life, is 1 when just published, 0 when undated")
    func freshness() {
        #expect(Scoring.freshness(published: now, now: now, halfLifeHours: 24) == 1)
        #expect(abs(Scoring.freshness(published: now.addingTimeInterval(-24 * 3600), now: now, halfLifeHours: 24) - 0.5) < 1e-12)
        #expect(abs(Scoring.freshness(published: now.addingTimeInterval(-48 * 3600), now: now, halfLifeHours: 24) - 0.25) < 1e-12)
        #expect(abs(Scoring.freshness(published: now.addingTimeInterval(-6 * 3600), now: now, halfLifeHours: 6) - 0.5) < 1e-12)
        #expect(Scoring.freshness(published: nil, now: now, halfLifeHours: 24) == 0)
        // Published "in the future" (a clock ahead): as fresh as can be, never more.
        #expect(Scoring.freshness(published: now.addingTimeInterval(3600), now: now, halfLifeHours: 24) == 1)
    }

    @Test("affinity is the share of the user's category weight an item's categories hold")
    func affinity() {
        let profile = ["sport": 6.0, "tech": 3.0, "food": 1.0]
        #expect(Scoring.affinity(categories: ["sport"], profile: profile) == 0.6)
        #expect(abs(Scoring.affinity(categories: ["sport", "tech"], profile: profile) - 0.9) < 1e-12)
        #expect(Scoring.affinity(categories: ["politics"], profile: profile) == 0)
        #expect(Scoring.affinity(categories: ["sport", "sport"], profile: profile) == 0.6)
        #expect(Scoring.affinity(categories: ["sport"], profile: [:]) == 0)
    }

    @Test("the score is the weighted sum of its components")
    func score() {
        let weights = RankingWeights(affinity: 0.5, freshness: 0.3, popularity: 0.2)
        #expect(abs(Scoring.score(affinity: 1, freshness: 0.5, popularity: 0.25, weights: weights) - (0.5 + 0.15 + 0.05)) < 1e-12)
    }

    @Test("MMR trades a little score for variety: the second pick is of another category when close")
    func diversity() {
        let candidates: [(String, score: Double, categories: Set<String>)] = [
            ("sport-a", 0.9, ["sport"]), ("sport-b", 0.85, ["sport"]), ("tech-a", 0.8, ["tech"]),
        ]
        #expect(Scoring.diversify(candidates, count: 3, lambda: 0.7).map(\.0) == ["sport-a", "tech-a", "sport-b"])
        #expect(Scoring.diversify(candidates, count: 3, lambda: 1).map(\.0) == ["sport-a", "sport-b", "tech-a"])
        #expect(Scoring.diversify(candidates, count: 1, lambda: 0.7).map(\.0) == ["sport-a"])
    }

    @Test("a profile weighs kinds, fades with age, excludes items read (opened, liked, finished) or dismissed, and names anchors")
    func profile() {
        func entry(_ item: String, _ kind: InteractionKind, _ category: String, progress: Int? = nil, daysAgo: Double = 0) -> UserProfile.Entry {
            .init(
                itemKey: item, kind: kind, progress: progress, occurredAt: now.addingTimeInterval(-daysAgo * 86400), title: "T \(item)",
                categories: [category], provider: "desk")
        }
        let profile = UserProfile(
            entries: [
                entry("a", .like, "sport"), entry("b", .progress, "sport", progress: 40), entry("c", .progress, "tech", progress: 100),
                entry("d", .dismiss, "food"), entry("e", .save, "tech", daysAgo: 14),
            ], now: now)
        #expect(abs((profile.categories["sport"] ?? 0) - 5) < 1e-9)
        #expect(abs((profile.categories["tech"] ?? 0) - (3 + 2.5)) < 1e-9)
        #expect(profile.categories["food"] == nil)
        #expect(profile.excluded == ["a", "c", "d"])
        #expect(profile.inProgress.map(\.key) == ["b"])
        #expect(profile.anchors["sport"] == "T a")
        #expect(profile.topCategories(1) == ["tech"])
    }

    @Test("Thompson sampling favours the item whose evidence is better, and explores the unknown")
    func thompson() {
        var random = SeededRandom(seed: 42)
        var wins: [String: Int] = [:]
        for _ in 0..<2000 {
            let pick = Exploration.pick(
                [("good", 30, 100), ("poor", 2, 100), ("unknown", 0, 0)], count: 1, random: &random)
            wins[pick[0], default: 0] += 1
        }
        #expect(wins["good", default: 0] > wins["poor", default: 0] * 10)
        #expect(wins["unknown", default: 0] > 100)
        #expect(abs((0..<4000).map { _ in Exploration.beta(3, 7, random: &random) }.reduce(0, +) / 4000 - 0.3) < 0.02)
    }

    @Test("the same seed draws the same numbers")
    func seeded() {
        var a = SeededRandom("tenant:user:493000")
        var b = SeededRandom("tenant:user:493000")
        var c = SeededRandom("tenant:user:493001")
        let first = (0..<5).map { _ in a.next() }
        #expect(first == (0..<5).map { _ in b.next() })
        #expect(first != (0..<5).map { _ in c.next() })
    }

    func item(_ key: String, _ category: String, provider: String? = nil) -> Item {
        Item(
            key: key, type: "article", title: key, categories: [category], topics: [], provider: provider, author: nil, publishedAt: now,
            attributes: [:], status: .active, version: 1, createdAt: now, updatedAt: now)
    }

    @Test("parts of the day are counted in the user's time zone")
    func dayparts() throws {
        let fiveUTC = try #require(ISO8601DateFormatter().date(from: "2026-12-07T05:30:00Z"))
        #expect(UserProfile.daypart(of: fiveUTC, in: .gmt) == 0)
        #expect(UserProfile.daypart(of: fiveUTC, in: try #require(TimeZone(identifier: "Asia/Tokyo"))) == 2)
        #expect(UserProfile.daypart(of: fiveUTC, in: try #require(TimeZone(identifier: "America/New_York"))) == 0)
        #expect(UserProfile.daypart(of: fiveUTC.addingTimeInterval(3 * 3600), in: try #require(TimeZone(identifier: "Europe/Berlin"))) == 1)
    }

    @Test("time of day: what a user reads in the morning ranks first in the morning, what they read at night at night")
    func timeOfDay() throws {
        let zone = try #require(TimeZone(identifier: "Europe/Berlin"))
        let morning = try #require(ISO8601DateFormatter().date(from: "2026-12-07T07:00:00Z"))
        let evening = morning.addingTimeInterval(12 * 3600)
        // News in the morning, sport in the evening, equally often over the last days.
        let entries = (1...3).flatMap { day -> [UserProfile.Entry] in
            [
                .init(
                    itemKey: "n\(day)", kind: .click, progress: nil, occurredAt: morning.addingTimeInterval(-Double(day) * 86400), title: nil,
                    categories: ["news"], provider: nil),
                .init(
                    itemKey: "s\(day)", kind: .click, progress: nil, occurredAt: evening.addingTimeInterval(-Double(day) * 86400), title: nil,
                    categories: ["sport"], provider: nil),
            ]
        }
        let profile = UserProfile(entries: entries.sorted { $0.occurredAt > $1.occurredAt }, now: evening, timeZone: zone)
        #expect(profile.dayparts[1].keys.sorted() == ["news"])
        #expect(profile.dayparts[3].keys.sorted() == ["sport"])
        let candidates = [
            Candidate(item: item("news-x", "news"), clicks: 0, views: 0), Candidate(item: item("sport-x", "sport"), clicks: 0, views: 0),
        ]
        var random = SeededRandom(seed: 1)
        var ranking = HomeRanking(weights: RankingWeights(diversity: 1), now: morning, timeZone: zone)
        #expect(ranking.forYou(profile, candidates: candidates, tenantCTR: 0, random: &random).items.first?.item.key == "news-x")
        ranking.now = evening
        #expect(ranking.forYou(profile, candidates: candidates, tenantCTR: 0, random: &random).items.first?.item.key == "sport-x")
        // Without the adjustment the hour changes nothing.
        ranking.weights.timeOfDay = 0
        let atEvening = ranking.forYou(profile, candidates: candidates, tenantCTR: 0, random: &random).items.map(\.item.key)
        ranking.now = morning
        #expect(ranking.forYou(profile, candidates: candidates, tenantCTR: 0, random: &random).items.map(\.item.key) == atEvening)
    }

    @Test("sponsored slots: at their positions, in order, skipping what the user is done with; blocked providers never shown")
    func businessRules() {
        var profile = UserProfile()
        profile.excluded = ["ad-1"]
        let picked = (0..<10).map { Recommendation(item: item("i\($0)", "news"), score: 1, reason: "") }
        let rules = FeedRules(sponsoredPositions: [0, 3], sponsoredItems: ["ad-1", "ad-2", "i5"], blockedProviders: ["spam"])
        let ranking = HomeRanking(rules: TenantRules(rules: rules, sponsored: [item("ad-1", "x"), item("ad-2", "x"), item("i5", "news")]))
        let placed = ranking.sponsor(picked, profile)
        #expect(placed.map(\.item.key) == ["ad-2", "i0", "i1", "i5", "i2", "i3", "i4", "i6", "i7", "i8"])
        #expect(placed.filter { $0.sponsored == true }.map(\.item.key) == ["ad-2", "i5"])
        #expect(!ranking.shows(item("x", "news", provider: "spam")))
        #expect(ranking.shows(item("x", "news", provider: "desk")))
        #expect(HomeRanking().sponsor(picked, profile).map(\.item.key) == picked.map(\.item.key))
    }
}
