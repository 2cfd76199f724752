import Foundation

/// A five-field cron expression (minute hour day-of-month month day-of-week) read in a
/// time zone: `*`, lists `1,15`, ranges `1-5`, steps `*/10` and `8-18/2`, month and day
/// names (`JAN`, `MON`); day-of-week 0 and 7 are Sunday. As in Vixie cron, when both day
/// fields are restricted a day matching either one fires.
public struct CronSchedule: Sendable, Equatable {
    let minutes: Set<Int>
    let hours: Set<Int>
    let days: Set<Int>
    let months: Set<Int>
    let weekdays: Set<Int>
    let daysRestricted: Bool
    let weekdaysRestricted: Bool
    public let timeZone: TimeZone

    public struct InvalidExpression: Error, CustomStringConvertible {
        public let description: String
    }

    public init(_ expression: String, timeZone: TimeZone) throws {
        let fields = expression.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard fields.count == 5 else { throw InvalidExpression(description: "cron '\(expression)' needs 5 fields, has \(fields.count)") }
        minutes = try Self.parse(fields[0], 0...59, names: [:], field: "minute")
        hours = try Self.parse(fields[1], 0...23, names: [:], field: "hour")
        days = try Self.parse(fields[2], 1...31, names: [:], field: "day of month")
        months = try Self.parse(fields[3], 1...12, names: Self.monthNames, field: "month")
        let weekdays = try Self.parse(fields[4], 0...7, names: Self.dayNames, field: "day of week")
        self.weekdays = Set(weekdays.map { $0 % 7 })
        daysRestricted = fields[2] != "*"
        weekdaysRestricted = fields[4] != "*"
        self.timeZone = timeZone
    }

    static let monthNames = [
        "JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12,
    ]
    static let dayNames = ["SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6]

    static func parse(_ field: String, _ range: ClosedRange<Int>, names: [String: Int], field name: String) throws -> Set<Int> {
        func value(_ text: Substring) throws -> Int {
            if let number = Int(text), range.contains(number) { return number }
            if let named = names[text.uppercased()] { return named }
            throw InvalidExpression(description: "cron \(name) '\(text)' is not in \(range.lowerBound)-\(range.upperBound)")
        }
        var values: Set<Int> = []
        for part in field.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2, let base = pieces.first, !base.isEmpty else {
                throw InvalidExpression(description: "cron \(name) '\(part)' is malformed")
            }
            var step = 1
            if pieces.count == 2 {
                guard let given = Int(pieces[1]), given > 0 else {
                    throw InvalidExpression(description: "cron \(name) step '\(pieces[1])' is not a positive number")
                }
                step = given
            }
            let bounds: ClosedRange<Int>
            if base == "*" {
                bounds = range
            } else if let dash = base.firstIndex(of: "-") {
                let low = try value(base[..<dash])
                let high = try value(base[base.index(after: dash)...])
                guard low <= high else { throw InvalidExpression(description: "cron \(name) range '\(base)' runs backwards") }
                bounds = low...high
            } else {
                let single = try value(base)
                bounds = single...(pieces.count == 2 ? range.upperBound : single)
            }
            values.formUnion(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
        }
        return values
    }

    /// The first minute strictly after `date` that the schedule names, in its time zone.
    /// Local times that do not exist (a spring-forward gap) are skipped; a repeated hour
    /// (fall back) fires on its first occurrence only.
    public func next(after date: Date) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        var candidate = Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60)
        let limit = date.addingTimeInterval(5 * 366 * 86400)
        while candidate < limit {
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .weekday], from: candidate)
            guard let month = parts.month, let day = parts.day, let hour = parts.hour, let minute = parts.minute, let weekday = parts.weekday else {
                return nil
            }
            if !months.contains(month) || !dayMatches(day: day, weekday: weekday - 1) {
                // Jump to the next local midnight.
                guard let midnight = calendar.nextDate(after: candidate, matching: DateComponents(hour: 0, minute: 0), matchingPolicy: .nextTime)
                else { return nil }
                candidate = midnight
                continue
            }
            if !hours.contains(hour) {
                // To the start of the next local hour (also right for half-hour offsets).
                candidate = candidate.addingTimeInterval(Double(60 - minute) * 60)
                continue
            }
            if minutes.contains(minute), isFirstOccurrence(candidate, calendar) { return candidate }
            candidate = candidate.addingTimeInterval(60)
        }
        return nil
    }

    private func dayMatches(day: Int, weekday: Int) -> Bool {
        switch (daysRestricted, weekdaysRestricted) {
        case (true, true): days.contains(day) || weekdays.contains(weekday)
        case (true, false): days.contains(day)
        case (false, true): weekdays.contains(weekday)
        case (false, false): true
        }
    }

    /// False for the second pass through a repeated local hour.
    private func isFirstOccurrence(_ date: Date, _ calendar: Calendar) -> Bool {
        let earlier = date.addingTimeInterval(-3600)
        let local = calendar.dateComponents([.day, .hour, .minute], from: date)
        let before = calendar.dateComponents([.day, .hour, .minute], from: earlier)
        return !(local.day == before.day && local.hour == before.hour && local.minute == before.minute)
    }
}
