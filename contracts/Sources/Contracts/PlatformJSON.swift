import Foundation

/// The JSON coders of the platform: HTTP bodies and event payloads alike.
/// Timestamps are RFC 3339 in UTC; decoding also accepts fractional seconds.
public enum PlatformJSON {
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.string(from: date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = RFC3339.date(from: text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an RFC 3339 timestamp")
            }
            return date
        }
        return decoder
    }
}

/// RFC 3339 timestamps (§5.6). Written in UTC, with milliseconds only when present.
public enum RFC3339 {
    public static func string(from date: Date) -> String {
        let millis = (date.timeIntervalSince1970 * 1000).rounded()
        let seconds = (millis / 1000).rounded(.down)
        let whole = Date(timeIntervalSince1970: seconds)
        let base = whole.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon))
        // Counted up from the whole second below, also before 1970 (a remainder would be
        // negative there: fuzzing found "…:04.-603Z").
        let fraction = Int(millis - seconds * 1000)
        let trimmed = base.hasSuffix("Z") ? String(base.dropLast()) : base
        return fraction == 0 ? trimmed + "Z" : trimmed + String(format: ".%03dZ", fraction)
    }

    public static func date(from text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
