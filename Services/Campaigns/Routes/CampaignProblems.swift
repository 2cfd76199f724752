import Foundation
import Hummingbird
import ServiceKit

/// What every campaigns route shares: the one place the stores' errors become problems.
enum CampaignProblems {
    static func mapErrors<T>(_ what: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as CampaignsError {
            throw problem(error, what)
        }
    }

    static func problem(_ error: CampaignsError, _ what: String) -> Problem {
        switch error {
        case .notFound: return Problem.notFound("No such \(what).")
        case .versionMismatch(let current):
            return Problem.preconditionFailed("The \(what) changed since you read it; it is now at version \(current).")
        case .duplicateEmail: return Problem.conflict("A subscriber with this email address exists already.")
        case .duplicateName: return Problem.conflict("A \(what) with this name exists already.")
        case .listsMissing(let ids):
            return Problem.validation([
                .init(field: "lists", message: "not lists of this tenant: \(ids.map { $0.uuidString.lowercased() }.joined(separator: ", "))")
            ])
        case .subscribersMissing(let ids):
            return Problem.validation([
                .init(
                    field: "subscriberIds",
                    message: "not subscribers of this tenant: \(ids.map { $0.uuidString.lowercased() }.joined(separator: ", "))")
            ])
        case .segment(let syntax): return Problem.validation([.init(field: "expression", message: syntax.description)])
        case .template(let problems): return Problem.validation(problems.map { .init(field: $0.part, message: $0.message) })
        case .templateVersionMissing(let number): return Problem.notFound("The template has no version \(number).")
        case .quota(let what): return Problem(status: .conflict, detail: "Over the plan's quota: \(what).")
        case .inUse(let why): return Problem.conflict("It is still in use: \(why).")
        case .illegalTransition(let move, let state): return Problem.conflict("A \(state) campaign cannot \(move).")
        case .invalid(let field, let message): return Problem.validation([.init(field: field, message: message)])
        }
    }
}
