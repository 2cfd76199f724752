import Foundation

/// Dates as feeds write them: RFC 822 in RSS (often with a missing weekday, a two-digit
/// year, a zone name or none), ISO 8601 / RFC 3339 in Atom and JSON Feed (with or without
/// fractions or a zone). Nil for what none of the forms read.
enum FeedDates {
    static func parse(_ raw: String?) -> Date? {
        guard let raw = raw?.trimmingCharacters(in: .whitespacesAndNewlines), !raw.isEmpty else { return nil }
        if let first = raw.first, first.isNumber, raw.count >= 10, raw[raw.index(raw.startIndex, offsetBy: 4)] == "-" {
            return iso8601(raw)
        }
        return rfc822(raw)
    }

    static func iso8601(_ raw: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if raw.count == 10 {
            formatter.formatOptions = [.withFullDate]
            return formatter.date(from: raw)
        }
        // "2026-12-07 10:00:00": a space for the T.
        let text = raw.replacingOccurrences(of: " ", with: "T")
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime]] {
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return date }
        }
        // Without a zone: taken as UTC.
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: String(text.prefix(19)) + "Z")
    }

    static let zones: [String: Int] = [
        "UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7, "CET": 1,
        "CEST": 2, "BST": 1,
    ]
    static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// "Mon, 07 Dec 2026 10:00:00 +0100", "7 Dec 26 10:00 GMT", "Mon, 7 December 2026 10:00:00 EST".
    static func rfc822(_ raw: String) -> Date? {
        var words = raw.replacingOccurrences(of: ",", with: " ").split(separator: " ").map(String.init)
        if let first = words.first, first.first?.isLetter == true { words.removeFirst() }
        guard words.count >= 4, let day = Int(words[0]), (1...31).contains(day),
            let month = months.firstIndex(where: { words[1].lowercased().hasPrefix($0) }), var year = Int(words[2])
        else { return nil }
        if year < 100 { year += year < 70 ? 2000 : 1900 }
        let clock = words[3].split(separator: ":").compactMap { Int($0) }
        guard clock.count >= 2, (0...23).contains(clock[0]), (0...59).contains(clock[1]) else { return nil }
        var offset = 0
        if words.count > 4 {
            let zone = words[4]
            if let sign = zone.first, sign == "+" || sign == "-", zone.count == 5, let value = Int(zone.dropFirst()) {
                offset = (value / 100 * 3600 + value % 100 * 60) * (sign == "-" ? -1 : 1)
            } else if let hours = zones[zone.uppercased()] {
                offset = hours * 3600
            }
        }
        var components = DateComponents()
        components.year = year
        components.month = month + 1
        components.day = day
        components.hour = clock[0]
        components.minute = clock[1]
        components.second = clock.count > 2 ? clock[2] : 0
        components.timeZone = TimeZone(secondsFromGMT: offset)
        return Calendar(identifier: .gregorian).date(from: components)
    }
}
