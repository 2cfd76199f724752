import Foundation

/// What the experience stores refuse; Routes/ExperienceProblems.swift maps each to one problem.
enum ExperienceError: Error, Equatable {
    case notFound
    case versionMismatch(current: Int?)
    case duplicateName
    /// The state does not allow it (from, to).
    case illegalTransition(String, String)
    /// Another experiment runs already; one at a time.
    case anotherRunning
    case unknownVariant(String)
    /// The tenant holds the most it may of these already.
    case tooMany(Int)
}
