import Foundation

/// Where a keyset page ends: the sort timestamp and id of its last row (the id breaks ties).
struct KeysetPosition: Codable, Sendable {
    var at: Date
    var id: UUID
}
