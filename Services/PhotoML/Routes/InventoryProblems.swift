import Foundation
import Hummingbird
import ServiceKit

/// What every inventory route shares: the one place the stores' errors become problems.
enum Inventory {
    static func mapErrors<T>(_ what: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as InventoryError {
            throw problem(error, what)
        }
    }

    static func problem(_ error: InventoryError, _ what: String) -> Problem {
        switch error {
        case .notFound: return Problem.notFound("No such \(what).")
        case .versionMismatch(let current):
            return Problem.preconditionFailed("The \(what) changed since you read it; it is now at version \(current).")
        case .parentMissing: return Problem.validation([.init(field: "parentId", message: "must name a place of this tenant")])
        case .parentKind(let expected):
            return Problem.validation([.init(field: "parentId", message: "must name a \(expected.rawValue)")])
        case .duplicateName: return Problem.conflict("A place with this name already exists there.")
        case .duplicateCode: return Problem.conflict("Another place already has this code.")
        case .duplicateSKU: return Problem.conflict("Another product already has this SKU.")
        case .hasChildren(let count): return Problem.conflict("The place still holds \(count) places; delete or move them first.")
        case .hasStock(let count): return Problem.conflict("There are still \(count) stock batches of it; they keep its history.")
        case .notALocation:
            return Problem.validation([.init(field: "locationId", message: "must name a location (stock does not stand in a warehouse or area)")])
        case .locationMissing: return Problem.validation([.init(field: "locationId", message: "must name a location of this tenant")])
        case .productMissing: return Problem.validation([.init(field: "productId", message: "must name a product of this tenant")])
        case .insufficient(let available): return Problem.conflict("The batch holds only \(available).")
        case .tooLarge(let limit): return Problem.validation([.init(field: "quantity", message: "would bring the batch above \(limit)")])
        case .sameLocation: return Problem.validation([.init(field: "toLocationId", message: "must be another location than the batch's")])
        case .hasPhotoSessions(let count): return Problem.conflict("\(count) photo sessions still refer to it; they keep its history.")
        case .sessionClosed: return Problem.conflict("The session is no longer pending; start a new one.")
        case .sessionElsewhere: return Problem.validation([.init(field: "sessionId", message: "must be a session of the same location")])
        case .sessionNotAcceptable(let why): return Problem.conflict("The session cannot be accepted: \(why).")
        case .sessionAccepted: return Problem.conflict("The session's estimate was accepted already.")
        case .sessionNotFailed(let state): return Problem.conflict("Only a failed session is retried; this one is \(state).")
        case .sessionNotCompleted(let state): return Problem.conflict("The session has no estimate yet; it is \(state).")
        case .uploadClosed(let why): return Problem.conflict("The upload cannot take this: \(why).")
        }
    }
}
