import Foundation

extension Date {
    /// This moment without its fraction of a second, as JWT NumericDates are written
    /// here (RFC 7519 §2 allows fractions, but common client libraries reject them or
    /// read a token checked in the second it was issued as "issued in the future").
    public var wholeSeconds: Date { Date(timeIntervalSince1970: timeIntervalSince1970.rounded(.down)) }
}
