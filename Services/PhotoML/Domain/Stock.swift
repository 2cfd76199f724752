import Foundation
import ServiceKit

/// Where a batch's quantity came from.
enum StockSource: String, Codable, Sendable {
    case counted, manual, moved
}

/// A quantity of one product at one location.
struct StockBatch: Codable, Sendable, Equatable {
    var id: UUID
    var locationId: UUID
    var productId: UUID
    var quantity: Int
    var source: StockSource
    var version: Int
    var createdAt: Date
    var updatedAt: Date

    var etag: String { "\"v\(version)\"" }
}

enum MovementKind: String, Codable, Sendable {
    /// Plants arrive (`quantity` more).
    case `in`
    /// Plants leave (`quantity` fewer; never more than the batch holds).
    case out
    /// Plants go to another location (`quantity` from this batch to one of the same product there).
    case move
    /// The batch is set to a counted `quantity` (a stocktake, or an accepted photo estimate).
    case adjustment
}

/// One change of a batch's quantity; a move writes one for each batch.
struct StockMovement: Codable, Sendable, Equatable {
    var id: UUID
    var batchId: UUID
    var kind: MovementKind
    var delta: Int
    var quantityBefore: Int
    var quantityAfter: Int
    /// A move's other batch: where the plants went, or where they came from.
    var counterpartBatchId: UUID?
    var reason: String?
    /// The user (or API client) who made it.
    var actor: String
    /// The photo session whose estimate this adjustment accepted.
    var sessionId: UUID?
    var createdAt: Date
}

/// The body of `POST /v1/inventory/stock`.
struct NewStockInput: Decodable, Sendable {
    var locationId: UUID
    var productId: UUID
    var quantity: Int
    var source: StockSource?
}

/// The body of `POST /v1/inventory/stock/{id}/movements`.
struct MovementInput: Decodable, Sendable {
    var kind: MovementKind
    var quantity: Int
    var reason: String?
    var toLocationId: UUID?
}

/// A validated movement, as the store applies it.
enum MovementRequest: Sendable, Equatable {
    case arrive(Int)
    case leave(Int)
    case setTo(Int)
    case move(Int, to: UUID)

    static let maxQuantity = 10_000_000

    static func validate(_ input: MovementInput, _ v: inout Validator) -> MovementRequest? {
        switch input.kind {
        case .adjustment:
            v.check((0...maxQuantity).contains(input.quantity), "quantity", "must be the counted quantity, 0 to 10,000,000")
        default:
            v.check((1...maxQuantity).contains(input.quantity), "quantity", "must be 1 to 10,000,000")
        }
        v.check(input.kind == .move || input.toLocationId == nil, "toLocationId", "is only for a move")
        v.check(input.kind != .move || input.toLocationId != nil, "toLocationId", "is required for a move")
        switch input.kind {
        case .in: return .arrive(input.quantity)
        case .out: return .leave(input.quantity)
        case .adjustment: return .setTo(input.quantity)
        case .move: return input.toLocationId.map { .move(input.quantity, to: $0) }
        }
    }

    var kind: MovementKind {
        switch self {
        case .arrive: .in
        case .leave: .out
        case .setTo: .adjustment
        case .move: .move
        }
    }
}
