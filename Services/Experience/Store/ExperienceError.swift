import Foundation

/// What the experience stores refuse; Routes/ExperienceProblems.swift maps each to one problem.
enum ExperienceError: Error, Equatable {
    case notFound
    case versionMismatch(current: Int?)
}
