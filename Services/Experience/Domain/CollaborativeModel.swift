import Foundation
import ServiceKit

/// One of a tenant's trained models, as the admin API shows it: the ALS model (collaborative
/// filtering) or the learned reranker.
struct ModelCard: Codable, Sendable, Equatable {
    enum Kind: String, Codable, Sendable, CaseIterable {
        case als, reranker
    }

    var kind: Kind
    var version: Int64
    var trainedAt: Date
    /// ALS: its parameters; the reranker: its weights by feature, and the share of training
    /// pairs it orders right.
    var parameters: JSONValue
    var users: Int
    var items: Int
    /// ALS: distinct user-item pairs; the reranker: training pairs.
    var interactions: Int
    var trainingSeconds: Double
}

/// Latent factors of one user or item, and the training they came from: only factors of the
/// same version may meet in a dot product.
struct Factors: Sendable, Equatable {
    var version: Int64
    var values: [Float]

    /// The predicted preference, clamped to 0…1 like the other components; nil when the two
    /// come from different trainings.
    func preference(for item: Factors?) -> Double? {
        guard let item, item.version == version, item.values.count == values.count else { return nil }
        var sum: Float = 0
        for index in values.indices { sum += values[index] * item.values[index] }
        return Double(min(max(sum, 0), 1))
    }
}

/// What a training reads: the tenant's users and items by index, and how strongly each user
/// interacted with each item (the profile's kind weights, summed; pairs that net to a
/// dismissal are left out).
struct TrainingData: Sendable {
    var users: [String] = []
    var items: [String] = []
    var entries: [(user: Int32, item: Int32, strength: Float)] = []

    private var userIndex: [String: Int32] = [:]
    private var itemIndex: [String: Int32] = [:]

    init() {}

    mutating func add(user: String, item: String, strength: Double) {
        guard strength > 0 else { return }
        entries.append((index(user, in: &userIndex, &users), index(item, in: &itemIndex, &items), Float(strength)))
    }

    private func index(_ key: String, in index: inout [String: Int32], _ keys: inout [String]) -> Int32 {
        if let found = index[key] { return found }
        let next = Int32(keys.count)
        index[key] = next
        keys.append(key)
        return next
    }

    var matrix: InteractionMatrix { InteractionMatrix(users: users.count, items: items.count, entries: entries) }
}
