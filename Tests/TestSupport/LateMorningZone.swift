import Foundation

/// An IANA zone where it is late morning now (Etc/GMT±n), so a time a few minutes ahead
/// falls on today there: digest tests schedule sends that way, whatever the hour they run.
public func lateMorningZone(now: Date = Date()) -> String {
    let hour = Calendar(identifier: .gregorian).dateComponents(in: .gmt, from: now).hour ?? 0
    let offset = 10 - hour
    return offset == 0 ? "Etc/GMT" : offset > 0 ? "Etc/GMT-\(offset)" : "Etc/GMT+\(-offset)"
}
