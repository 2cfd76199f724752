import Foundation
import ServiceKit

/// A tenant's business rules over its home feeds: sponsored items placed at fixed positions
/// of "for you" (labelled as such), and providers never recommended.
struct FeedRules: Codable, Sendable, Equatable {
    /// 0-based positions in "for you", ascending.
    var sponsoredPositions: [Int] = []
    /// Keys of the items that fill them, in order; a user who read or dismissed one gets the next.
    var sponsoredItems: [String] = []
    var blockedProviders: [String] = []
    var version = 0
    var updatedAt: Date?

    var etag: String { "\"v\(version)\"" }

    /// Whether the rules let the item be recommended at all.
    func allows(_ item: Item) -> Bool {
        guard let provider = item.provider else { return true }
        return !blockedProviders.contains(provider)
    }

    static let maxPositions = 3
    static let maxSponsoredItems = 50
    static let maxBlockedProviders = 500
}

/// The body of `PUT /v1/admin/experience/rules`: the whole rule set (absent lists: empty).
struct FeedRulesInput: Decodable, Sendable {
    var sponsoredPositions: [Int]?
    var sponsoredItems: [String]?
    var blockedProviders: [String]?

    func rules(perSection: Int, _ v: inout Validator) -> FeedRules {
        let positions = sponsoredPositions ?? []
        v.check(positions.count <= FeedRules.maxPositions, "sponsoredPositions", "at most \(FeedRules.maxPositions) positions")
        v.check(positions.allSatisfy { (0..<perSection).contains($0) }, "sponsoredPositions", "each must be 0 to \(perSection - 1)")
        v.check(Set(positions).count == positions.count, "sponsoredPositions", "must not repeat a position")
        let items = sponsoredItems ?? []
        v.check(items.count <= FeedRules.maxSponsoredItems, "sponsoredItems", "at most \(FeedRules.maxSponsoredItems) items")
        for (index, key) in items.enumerated() { _ = ItemRules.key(key, "sponsoredItems[\(index)]", &v) }
        v.check(Set(items).count == items.count, "sponsoredItems", "must not repeat an item")
        v.check(positions.isEmpty == items.isEmpty, "sponsoredItems", "positions and items go together: both or neither")
        let providers = blockedProviders ?? []
        v.check(providers.count <= FeedRules.maxBlockedProviders, "blockedProviders", "at most \(FeedRules.maxBlockedProviders) providers")
        for (index, provider) in providers.enumerated() {
            v.check((1...200).contains(provider.count), "blockedProviders[\(index)]", "must be 1 to 200 characters")
        }
        return FeedRules(sponsoredPositions: positions.sorted(), sponsoredItems: items, blockedProviders: providers)
    }
}

/// The rules with the sponsored items they name, as a feed needs them (kept tenant-wide).
struct TenantRules: Sendable {
    var rules = FeedRules()
    /// The sponsored items that exist, in the rules' order.
    var sponsored: [Item] = []
}
