import Foundation
import ServiceKit

/// A feed a user follows, or the tenant offers everyone (`userId` nil), and how fetching it goes.
struct Source: Codable, Sendable, Equatable {
    enum State: String, Codable, Sendable {
        case active, disabled
    }

    var id: UUID
    var userId: String?
    var url: String
    var siteUrl: String?
    var title: String
    /// rss, rdf, atom, json_feed; page for a site without a feed read by its own metadata.
    var format: String
    var state: State
    var failures: Int
    var failingSince: Date?
    var lastError: String?
    var nextFetchAt: Date
    var lastFetchedAt: Date?
    /// Fetches by outcome, and items it brought that were new to the catalogue.
    var fetched: Int
    var notModified: Int
    var failed: Int
    var itemsNew: Int
    var createdAt: Date
}

/// The body of `POST /v1/experience/sources`.
struct SourceInput: Decodable, Sendable {
    var url: String?
    /// For everyone in the tenant (tenant admins), rather than the caller.
    var tenantWide: Bool?
    /// The user an API client adds the source for.
    var userId: String?
}

/// When a source is fetched next, and when it is given up on.
enum SourceSchedule {
    /// Between fetches of a healthy source.
    static let interval: TimeInterval = 30 * 60
    /// After n failures in a row: interval · 2ⁿ, at most a day.
    static let longestWait: TimeInterval = 86400
    /// Failing this long: disabled (the user sees why, and may fetch it again to retry).
    static let giveUpAfter: TimeInterval = 7 * 86400

    static func afterFailure(failures: Int, now: Date) -> Date {
        now.addingTimeInterval(min(interval * pow(2, Double(min(failures, 16))), longestWait))
    }

    static func givesUp(failingSince: Date, now: Date) -> Bool {
        now.timeIntervalSince(failingSince) >= giveUpAfter
    }
}
