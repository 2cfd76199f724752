import Foundation

/// When a user's daily digest is due: their chosen wall-clock time in their zone, on the next
/// day that has it. On a day the clocks skip that time (spring forward), the digest goes at
/// the first minute that exists after it; on a day the time happens twice (fall back), at its
/// first occurrence, so a user never gets two.
enum DigestSchedule {
    /// "07:30" → (7, 30); nil for anything but HH:MM on a 24-hour clock.
    static func localTime(_ raw: String) -> (hour: Int, minute: Int)? {
        let parts = raw.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]),
            (0...23).contains(hour), (0...59).contains(minute)
        else { return nil }
        return (hour, minute)
    }

    /// The first send strictly after `instant`.
    static func next(after instant: Date, hour: Int, minute: Int, in zone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar.nextDate(
            after: instant, matching: DateComponents(hour: hour, minute: minute, second: 0), matchingPolicy: .nextTime,
            repeatedTimePolicy: .first, direction: .forward)
    }

    /// The user's calendar day a send at `instant` belongs to, "2026-12-07": at most one digest each.
    static func localDate(of instant: Date, in zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.year, .month, .day], from: instant)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }
}
