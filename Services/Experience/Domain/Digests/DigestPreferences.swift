import Foundation
import ServiceKit

/// How a user wants their daily digest: whether at all, at what local time in which zone, how
/// many articles at most, and topics never to include. `nextSendAt` is when it is due next.
struct DigestPreferences: Codable, Sendable, Equatable {
    var enabled: Bool
    var localTime: String
    var timeZone: String
    var maxItems: Int
    var mutedTopics: [String]
    var nextSendAt: Date?
    var version: Int

    var etag: String { "\"v\(version)\"" }

    /// Before a user sets any: off, 07:30 UTC, ten articles.
    static func defaults() -> DigestPreferences {
        DigestPreferences(enabled: false, localTime: "07:30", timeZone: "UTC", maxItems: 10, mutedTopics: [], nextSendAt: nil, version: 0)
    }

    static let maxItemsRange = 1...50
}

/// The body of `PUT /v1/experience/digest`: the whole preferences (absent fields keep their defaults).
struct DigestPreferencesInput: Decodable, Sendable {
    var enabled: Bool?
    var localTime: String?
    var timeZone: String?
    var maxItems: Int?
    var mutedTopics: [String]?

    func preferences(now: Date, _ v: inout Validator) -> DigestPreferences {
        var preferences = DigestPreferences.defaults()
        preferences.enabled = enabled ?? false
        if let localTime {
            v.check(DigestSchedule.localTime(localTime) != nil, "localTime", "must be HH:MM on a 24-hour clock, like 07:30")
            preferences.localTime = localTime
        }
        if let timeZone {
            v.check(UserProfile.zone(named: timeZone) != nil, "timeZone", UserProfile.zoneRule)
            preferences.timeZone = timeZone
        }
        if let maxItems {
            v.check(DigestPreferences.maxItemsRange.contains(maxItems), "maxItems", "must be 1 to \(DigestPreferences.maxItemsRange.upperBound)")
            preferences.maxItems = maxItems
        }
        // Topics as items label them: lower-cased, each once, at most 20.
        preferences.mutedTopics = ItemRules.labels(mutedTopics, "mutedTopics", &v)
        if preferences.enabled, let time = DigestSchedule.localTime(preferences.localTime), let zone = UserProfile.zone(named: preferences.timeZone) {
            preferences.nextSendAt = DigestSchedule.next(after: now, hour: time.hour, minute: time.minute, in: zone)
        }
        return preferences
    }
}
