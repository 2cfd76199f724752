import Foundation

/// A daily window in the user's time zone during which non-urgent notifications wait.
/// A window whose end is before its start wraps midnight (22:00–07:00).
struct QuietHours: Sendable, Equatable {
    /// Minutes after local midnight.
    var start: Int
    var end: Int
    var timeZone: TimeZone

    /// When a notification sent at `now` may go out: nil if now is outside the window,
    /// else the window's end.
    func deferral(at now: Date) -> Date? {
        guard start != end else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.hour, .minute], from: now)
        let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        let inside = start < end ? (minute >= start && minute < end) : (minute >= start || minute < end)
        guard inside else { return nil }
        // The next local time with the end's hour and minute (daylight-saving gaps move it on).
        return calendar.nextDate(
            after: now, matching: DateComponents(hour: end / 60, minute: end % 60, second: 0), matchingPolicy: .nextTime)
    }

    /// "HH:MM" → minutes after midnight.
    static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]),
            (0..<24).contains(hour), (0..<60).contains(minute)
        else { return nil }
        return hour * 60 + minute
    }

    static func clock(_ minutes: Int) -> String {
        let hour = minutes / 60
        let minute = minutes % 60
        return (hour < 10 ? "0" : "") + "\(hour):" + (minute < 10 ? "0" : "") + "\(minute)"
    }
}
