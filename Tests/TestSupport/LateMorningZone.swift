import Foundation

/// An IANA zone where it is late morning now (Etc/GMT±n), so a time a few minutes ahead
/// falls on today there: digest tests schedule sends that way, whatever the hour they run.
public func lateMorningZone(now: Date = Date()) -> String {
    let hour = Calendar(identifier: .gregorian).dateComponents(in: .gmt, from: now).hour ?? 0
    // Etc zones run from GMT+12 to GMT-14 (UTC-12 to UTC+14): at 23:00 UTC, 11:00 at UTC-12.
    let offset = max(10 - hour, -12)
    return offset == 0 ? "Etc/GMT" : offset > 0 ? "Etc/GMT-\(offset)" : "Etc/GMT+\(-offset)"
}
