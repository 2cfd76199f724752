import Foundation

/// A recurrence rule, the RFC 5545 RRULE subset tasks use: FREQ=DAILY|WEEKLY|MONTHLY|YEARLY,
/// INTERVAL, BYDAY (`MO`, and in MONTHLY rules ordinals such as `1MO`, `-1FR`), BYMONTHDAY
/// (negative counts from the month's end), COUNT, UNTIL. Occurrences keep the wall-clock
/// time of the first one in the task's time zone, across DST changes; weeks start on Monday.
struct Recurrence: Sendable, Equatable {
    enum Frequency: String, Sendable {
        case daily = "DAILY"
        case weekly = "WEEKLY"
        case monthly = "MONTHLY"
        case yearly = "YEARLY"
    }

    struct Weekday: Sendable, Equatable {
        /// 1 = Sunday … 7 = Saturday (Calendar's numbering).
        var day: Int
        /// In MONTHLY rules: the nth (or, negative, nth last) such day of the month.
        var ordinal: Int?
    }

    var frequency: Frequency
    var interval = 1
    var byDay: [Weekday] = []
    var byMonthDay: [Int] = []
    var count: Int?
    var until: Date?

    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    static let dayNames = ["SU": 1, "MO": 2, "TU": 3, "WE": 4, "TH": 5, "FR": 6, "SA": 7]

    init(_ text: String) throws {
        var rule = text.trimmingCharacters(in: .whitespaces)
        if rule.uppercased().hasPrefix("RRULE:") { rule = String(rule.dropFirst(6)) }
        var frequency: Frequency?
        for part in rule.split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1).map { String($0).uppercased() }
            guard pair.count == 2 else { throw Invalid(description: "'\(part)' is not NAME=VALUE") }
            switch pair[0] {
            case "FREQ":
                guard let value = Frequency(rawValue: pair[1]) else { throw Invalid(description: "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY") }
                frequency = value
            case "INTERVAL":
                guard let value = Int(pair[1]), (1...1000).contains(value) else { throw Invalid(description: "INTERVAL must be 1 to 1000") }
                interval = value
            case "COUNT":
                guard let value = Int(pair[1]), (1...10000).contains(value) else { throw Invalid(description: "COUNT must be 1 to 10000") }
                count = value
            case "UNTIL":
                guard let value = Self.untilDate(pair[1]) else { throw Invalid(description: "UNTIL must look like 20261231T235959Z or 20261231") }
                until = value
            case "BYDAY":
                byDay = try pair[1].split(separator: ",").map { item in
                    let name = String(item.suffix(2))
                    guard let day = Self.dayNames[name] else { throw Invalid(description: "BYDAY '\(item)' is not a day such as MO or -1FR") }
                    let prefix = item.dropLast(2)
                    if prefix.isEmpty { return Weekday(day: day, ordinal: nil) }
                    guard let ordinal = Int(prefix), ordinal != 0, (-5...5).contains(ordinal) else {
                        throw Invalid(description: "BYDAY '\(item)' has an ordinal outside -5…5")
                    }
                    return Weekday(day: day, ordinal: ordinal)
                }
            case "BYMONTHDAY":
                byMonthDay = try pair[1].split(separator: ",").map { item in
                    guard let day = Int(item), day != 0, (-31...31).contains(day) else {
                        throw Invalid(description: "BYMONTHDAY '\(item)' must be 1…31 or -31…-1")
                    }
                    return day
                }
            default:
                throw Invalid(description: "\(pair[0]) is not supported (FREQ, INTERVAL, BYDAY, BYMONTHDAY, COUNT, UNTIL are)")
            }
        }
        guard let frequency else { throw Invalid(description: "FREQ is required") }
        if count != nil && until != nil { throw Invalid(description: "COUNT and UNTIL cannot both be given") }
        if byDay.contains(where: { $0.ordinal != nil }) && frequency != .monthly {
            throw Invalid(description: "BYDAY ordinals such as 1MO belong to MONTHLY rules")
        }
        self.frequency = frequency
    }

    static func untilDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        for format in ["yyyyMMdd'T'HHmmss'Z'", "yyyyMMdd"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) {
                // A bare date includes that whole day.
                return format == "yyyyMMdd" ? date.addingTimeInterval(86399) : date
            }
        }
        return nil
    }

    /// The occurrence after `current` (occurrence number `index`, from 1), or nil when the
    /// series is over.
    func next(after current: Date, index: Int, in zone: TimeZone) -> Date? {
        if let count, index >= count { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        calendar.firstWeekday = 2
        let time = calendar.dateComponents([.hour, .minute, .second], from: current)
        let startDay = calendar.startOfDay(for: current)
        // Walk periods (days, weeks, months, years) from the current one; in each, the
        // candidate days in order; the first after `current` wins.
        for step in 0..<1000 {
            for day in candidates(period: step * interval, from: startDay, calendar) {
                var parts = calendar.dateComponents([.year, .month, .day], from: day)
                parts.hour = time.hour
                parts.minute = time.minute
                parts.second = time.second
                guard let occurrence = calendar.date(from: parts), occurrence > current else { continue }
                if let until, occurrence > until { return nil }
                return occurrence
            }
        }
        return nil
    }

    /// The days of the period `offset` units after the one holding `start`.
    private func candidates(period offset: Int, from start: Date, _ calendar: Calendar) -> [Date] {
        switch frequency {
        case .daily:
            guard let day = calendar.date(byAdding: .day, value: offset, to: start) else { return [] }
            return matches(day, calendar) ? [day] : []
        case .weekly:
            guard let shifted = calendar.date(byAdding: .weekOfYear, value: offset, to: start),
                let week = calendar.dateInterval(of: .weekOfYear, for: shifted)
            else { return [] }
            let days = (0..<7).compactMap { calendar.date(byAdding: .day, value: $0, to: week.start) }
            let wanted = byDay.isEmpty ? [calendar.component(.weekday, from: start)] : byDay.map(\.day)
            return days.filter { wanted.contains(calendar.component(.weekday, from: $0)) }
        case .monthly:
            guard
                let shifted = calendar.date(
                    byAdding: .month, value: offset, to: calendar.date(from: calendar.dateComponents([.year, .month], from: start)) ?? start),
                let range = calendar.range(of: .day, in: .month, for: shifted)
            else { return [] }
            let days = range.compactMap { calendar.date(byAdding: .day, value: $0 - 1, to: shifted) }
            if byDay.isEmpty && byMonthDay.isEmpty {
                let day = calendar.component(.day, from: start)
                // The 31st recurs only in months that have one (RFC 5545 §3.3.10).
                return days.filter { calendar.component(.day, from: $0) == day }
            }
            return days.filter { monthDayMatches($0, days: days, calendar) }
        case .yearly:
            guard let day = calendar.date(byAdding: .year, value: offset, to: start) else { return [] }
            // Feb 29 falls on Feb 28 when added to a common year: such years are skipped.
            let original = calendar.dateComponents([.month, .day], from: start)
            let landed = calendar.dateComponents([.month, .day], from: day)
            return original == landed ? [day] : []
        }
    }

    private func matches(_ day: Date, _ calendar: Calendar) -> Bool {
        if !byDay.isEmpty, !byDay.map(\.day).contains(calendar.component(.weekday, from: day)) { return false }
        if !byMonthDay.isEmpty {
            let number = calendar.component(.day, from: day)
            let length = calendar.range(of: .day, in: .month, for: day)?.count ?? 31
            if !byMonthDay.contains(where: { $0 == number || (length + 1 + $0) == number && $0 < 0 }) { return false }
        }
        return true
    }

    private func monthDayMatches(_ day: Date, days: [Date], _ calendar: Calendar) -> Bool {
        let number = calendar.component(.day, from: day)
        let length = days.count
        if !byMonthDay.isEmpty, !byMonthDay.contains(where: { $0 > 0 ? $0 == number : length + 1 + $0 == number }) { return false }
        if !byDay.isEmpty {
            let weekday = calendar.component(.weekday, from: day)
            let sameWeekday = days.filter { calendar.component(.weekday, from: $0) == weekday }
            guard let position = sameWeekday.firstIndex(of: day) else { return false }
            let matched = byDay.contains { rule in
                guard rule.day == weekday else { return false }
                guard let ordinal = rule.ordinal else { return true }
                return ordinal > 0 ? position == ordinal - 1 : position == sameWeekday.count + ordinal
            }
            if !matched { return false }
        }
        return true
    }
}
