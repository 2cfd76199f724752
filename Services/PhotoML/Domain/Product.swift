import Foundation
import ServiceKit

/// What grows: a species (and variety), in a size and packaging, e.g. Lavandula
/// angustifolia 'Hidcote', P9 pot, tray of 12.
struct Product: Codable, Sendable, Equatable {
    var id: UUID
    var species: String
    var variety: String?
    var size: String?
    var packaging: String?
    var sku: String?
    var version: Int
    var createdAt: Date
    var updatedAt: Date

    var etag: String { "\"v\(version)\"" }
}

/// The body of `POST /v1/inventory/products`.
struct NewProductInput: Decodable, Sendable {
    var species: String
    var variety: String?
    var size: String?
    var packaging: String?
    var sku: String?
}

/// The body of `PATCH /v1/inventory/products/{id}`.
struct ProductPatch: Decodable, Sendable {
    var species: PatchField<String> = .absent
    var variety: PatchField<String> = .absent
    var size: PatchField<String> = .absent
    var packaging: PatchField<String> = .absent
    var sku: PatchField<String> = .absent

    enum CodingKeys: String, CodingKey { case species, variety, size, packaging, sku }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        species = try c.patch(.species)
        variety = try c.patch(.variety)
        size = try c.patch(.size)
        packaging = try c.patch(.packaging)
        sku = try c.patch(.sku)
    }
}

enum ProductRules {
    static let limits: [String: Int] = ["species": 200, "variety": 200, "size": 64, "packaging": 64, "sku": 64]

    static func field(_ value: String?, _ name: String, required: Bool = false, _ v: inout Validator) -> String? {
        guard let value else {
            if required { v.add(name, "is required") }
            return nil
        }
        return v.text(value, name, max: limits[name] ?? 200)
    }
}
