import Crypto
import Foundation
import ServiceKit

/// An A/B test of what users are shown (seed ML-004).
struct Experiment: Codable, Sendable, Equatable {
    enum State: String, Codable, Sendable {
        case draft, running, stopped
    }

    struct Variant: Codable, Sendable, Equatable {
        var name: String
        /// Share of users, relative to the other variants' weights.
        var weight: Double
        /// The "for you" ranking; absent: the defaults.
        var ranking: RankingWeights?
        /// The home sections in this order (names); absent: the usual order.
        var sectionOrder: [String]?
        /// "heuristic" (the weights; the default) or "learned" (the tenant's trained reranker,
        /// the weights while none is trained).
        var algorithm: String?
    }

    var id: UUID
    var name: String
    var description: String
    var variants: [Variant]
    var state: State
    var winner: String?
    var version: Int
    var createdAt: Date
    var startedAt: Date?
    var stoppedAt: Date?

    var etag: String { "\"v\(version)\"" }

    /// The user's variant: a hash of experiment and user picks a point in [0, 1), the
    /// variants' weights share that interval. The same user, the same variant, always.
    func variant(for user: String) -> Variant? {
        let total = variants.reduce(0) { $0 + $1.weight }
        guard total > 0 else { return nil }
        let point = Self.point(experiment: id, user: user) * total
        var edge = 0.0
        for variant in variants {
            edge += variant.weight
            if point < edge { return variant }
        }
        return variants.last
    }

    static func point(experiment: UUID, user: String) -> Double {
        let digest = SHA256.hash(data: Data("\(experiment.uuidString.lowercased()):\(user)".utf8))
        let prefix = digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Double(prefix >> 11) / Double(UInt64(1) << 53)
    }
}

/// The body of `POST /v1/admin/experiments`.
struct ExperimentInput: Decodable, Sendable {
    var name: String?
    var description: String?
    var variants: [Experiment.Variant]?
}

enum ExperimentRules {
    static let sections = ["continue_reading", "for_you", "trending", "new_from_sources"]
    static let algorithms = ["heuristic", "learned"]

    static func variants(_ raw: [Experiment.Variant]?, _ v: inout Validator) -> [Experiment.Variant] {
        guard let raw, (2...4).contains(raw.count) else {
            v.add("variants", "must hold 2 to 4 variants")
            return []
        }
        var names: Set<String> = []
        for (index, variant) in raw.enumerated() {
            let field = "variants[\(index)]"
            v.check((1...60).contains(variant.name.count), field + ".name", "must be 1 to 60 characters")
            v.check(names.insert(variant.name).inserted, field + ".name", "appears twice")
            v.check(variant.weight > 0 && variant.weight <= 100 && variant.weight.isFinite, field + ".weight", "must be above 0 and at most 100")
            if let ranking = variant.ranking {
                let parts = [ranking.affinity, ranking.freshness, ranking.popularity, ranking.collaborative, ranking.timeOfDay, ranking.diversity]
                v.check(parts.allSatisfy { (0...1).contains($0) }, field + ".ranking", "weights and diversity must be 0 to 1")
                v.check(
                    ranking.freshnessHalfLifeHours > 0 && ranking.freshnessHalfLifeHours <= 24 * 365, field + ".ranking.freshnessHalfLifeHours",
                    "must be above 0 and at most a year")
            }
            if let algorithm = variant.algorithm {
                v.check(algorithms.contains(algorithm), field + ".algorithm", "must be one of " + algorithms.joined(separator: ", "))
            }
            if let order = variant.sectionOrder {
                v.check(
                    Set(order) == Set(sections) && order.count == sections.count, field + ".sectionOrder",
                    "must name each section once: " + sections.joined(separator: ", "))
            }
        }
        return raw
    }
}
