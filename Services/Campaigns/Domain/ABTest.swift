import Foundation
import ServiceKit

/// An A/B test of a campaign: 2 to 4 variants of the subject and/or the template version,
/// sent to `testPercent` of the audience (each recipient's variant decided by a hash of the
/// campaign and the subscriber, so a re-run assigns the same); after `waitMinutes` the
/// variant with the best open or click rate wins (or an admin picks one) and goes to the rest.
struct ABTest: Codable, Sendable, Equatable {
    enum Metric: String, Codable, Sendable { case open, click, manual }

    struct Variant: Codable, Sendable, Equatable {
        var name: String
        /// Replaces the template's subject.
        var subject: String?
        /// Another version of the campaign's template; the pinned one when absent.
        var templateVersion: Int?
    }

    var variants: [Variant]
    var testPercent: Int
    var metric: Metric
    var waitMinutes: Int

    static func validate(_ test: ABTest, _ v: inout Validator) {
        v.check((2...4).contains(test.variants.count), "abTest.variants", "must be 2 to 4")
        v.check(Set(test.variants.map(\.name)).count == test.variants.count, "abTest.variants", "names must differ")
        v.check(
            test.variants.allSatisfy { $0.name.range(of: "^[A-Za-z0-9_-]{1,32}$", options: .regularExpression) != nil }, "abTest.variants",
            "names are 1 to 32 letters, digits, _ or -")
        v.check(
            test.variants.allSatisfy { $0.subject.map { !$0.isEmpty && $0.count <= 500 && !$0.contains("\n") } ?? true }, "abTest.variants",
            "a subject is one line of at most 500 characters")
        v.check(test.variants.allSatisfy { ($0.templateVersion ?? 1) >= 1 }, "abTest.variants", "a template version is 1 or more")
        v.check((1...50).contains(test.testPercent), "abTest.testPercent", "must be 1 to 50")
        v.check((1...10080).contains(test.waitMinutes), "abTest.waitMinutes", "must be 1 to 10080 (a week)")
    }
}

/// How each variant did, in a campaign's status.
struct VariantResult: Codable, Sendable, Equatable {
    var name: String
    var sent: Int
    var uniqueOpens: Int
    var uniqueClicks: Int
    var openRate: Double
    var clickRate: Double
}
