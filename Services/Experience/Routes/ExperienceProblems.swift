import Foundation
import Hummingbird
import ServiceKit

/// What every experience route shares: the one place the stores' errors become problems.
enum ExperienceProblems {
    static func mapErrors<T>(_ what: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ExperienceError {
            throw problem(error, what)
        }
    }

    static func problem(_ error: ExperienceError, _ what: String) -> Problem {
        switch error {
        case .notFound: Problem.notFound("No such \(what).")
        case .versionMismatch(let current?):
            Problem.preconditionFailed("The \(what) changed since you read it; it is now at version \(current).")
        case .versionMismatch(nil): Problem.preconditionFailed("The \(what) does not exist, so no version of it can match.")
        case .duplicateName: Problem.conflict("A \(what) with this name exists already.")
        case .illegalTransition(let from, let to): Problem.conflict("A \(from) \(what) cannot become \(to).")
        case .anotherRunning: Problem.conflict("Another experiment is running; stop it first (one shapes the home feed at a time).")
        case .unknownVariant(let name): Problem.validation([.init(field: "winner", message: "names no variant of the experiment: \(name)")])
        case .tooMany(let limit): Problem.conflict("A tenant may have at most \(limit) of these; delete one first.")
        }
    }
}
