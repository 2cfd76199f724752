import Foundation

/// What one reconciliation found: for each counter, how many buckets (item-hours) or totals
/// disagreed with the interaction log, and by how much in sum (stored minus the log).
struct Reconciliation: Codable, Sendable, Equatable {
    struct Drift: Codable, Sendable, Equatable {
        var buckets = 0
        var difference = 0
    }

    var id: UUID
    var fromHour: Date
    var toHour: Date
    var bucketsChecked: Int
    var drift: [String: Drift]
    /// Buckets and totals set back to what the log says.
    var repaired: Int
    var startedAt: Date
    var finishedAt: Date

    /// Drift per counter from the differences found (stored minus expected), one per bucket.
    static func drift(_ differences: [Counts]) -> [String: Drift] {
        var drift = Dictionary(uniqueKeysWithValues: Counts.names.map { ($0, Drift()) })
        for difference in differences {
            for (name, value) in zip(Counts.names, difference.values) where value != 0 {
                drift[name, default: Drift()].buckets += 1
                drift[name, default: Drift()].difference += value
            }
        }
        return drift
    }
}

enum ReconciliationRules {
    /// What `POST /v1/admin/experience/reconciliation` checks unless told: two days.
    static let defaultHours = 48
    /// The daily job looks back as far as a late event may land (7 days), and a day more.
    static let jobHours = 8 * 24
    /// The log keeps 180 days; nothing older can be checked.
    static let maxHours = 180 * 24
}
