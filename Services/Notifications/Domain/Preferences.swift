import Foundation

/// The channels a notification can reach a person on.
enum Channel: String, Codable, Sendable, CaseIterable {
    case email
    case inApp = "in_app"
    case push
}

/// A user's notification choices, as the API reads and writes them.
struct Preferences: Codable, Sendable, Equatable {
    struct Window: Codable, Sendable, Equatable {
        /// "HH:MM" in `timeZone`.
        var start: String
        var end: String
    }

    /// IANA name, e.g. "Europe/Paris".
    var timeZone: String
    var quietHours: Window?
    /// "HH:MM" local time of the daily digest of low-priority notifications.
    var digestTime: String
    /// Opt-outs by category, then channel: `{"tasks": {"email": false}}`. Absent means on.
    var channels: [String: [String: Bool]]

    static let standard = Preferences(timeZone: "UTC", quietHours: nil, digestTime: "08:00", channels: [:])

    /// Categories that carry security or account mail: no opt-out, no quiet hours.
    static let transactional: Set<String> = ["security", "account", "verification", "password_reset"]

    func allows(_ channel: Channel, category: String) -> Bool {
        if Self.transactional.contains(category) { return true }
        return channels[category]?[channel.rawValue] ?? true
    }

    var quiet: QuietHours? {
        guard let quietHours, let start = QuietHours.minutes(quietHours.start), let end = QuietHours.minutes(quietHours.end),
            let zone = TimeZone(identifier: timeZone)
        else { return nil }
        return QuietHours(start: start, end: end, timeZone: zone)
    }

    /// Field errors of a preferences document sent by a client.
    func problems() -> [(String, String)] {
        var problems: [(String, String)] = []
        if TimeZone(identifier: timeZone) == nil { problems.append(("timeZone", "must be an IANA time zone such as Europe/Paris")) }
        if let quietHours {
            if QuietHours.minutes(quietHours.start) == nil { problems.append(("quietHours.start", "must be HH:MM")) }
            if QuietHours.minutes(quietHours.end) == nil { problems.append(("quietHours.end", "must be HH:MM")) }
            if quietHours.start == quietHours.end { problems.append(("quietHours", "start and end must differ")) }
        }
        if QuietHours.minutes(digestTime) == nil { problems.append(("digestTime", "must be HH:MM")) }
        if channels.count > 100 { problems.append(("channels", "at most 100 categories")) }
        for (category, byChannel) in channels {
            if category.isEmpty || category.count > 64 { problems.append(("channels", "category names are 1 to 64 characters")) }
            for name in byChannel.keys where Channel(rawValue: name) == nil {
                problems.append(("channels.\(category)", "\(name) is not a channel (email, in_app, push)"))
            }
            if Self.transactional.contains(category), byChannel.values.contains(false) {
                problems.append(("channels.\(category)", "\(category) notifications cannot be turned off"))
            }
        }
        return problems
    }
}
