import Foundation
import ServiceKit

/// Something a tenant's app shows its users, under the tenant's own key.
struct Item: Codable, Sendable, Equatable {
    enum Status: String, Codable, Sendable, CaseIterable {
        /// Recommended.
        case active
        /// Kept with its history, recommended to nobody.
        case hidden, archived
    }

    var key: String
    var type: String
    var title: String
    var categories: [String]
    var topics: [String]
    var provider: String?
    var author: String?
    var publishedAt: Date?
    var attributes: [String: JSONValue]
    var status: Status
    var version: Int
    var createdAt: Date
    var updatedAt: Date

    var etag: String { "\"v\(version)\"" }
}

/// The body of `PUT /v1/experience/items/{key}`, and one entry of a bulk upsert (with its key).
struct ItemInput: Decodable, Sendable {
    var key: String?
    var type: String?
    var title: String?
    var categories: [String]?
    var topics: [String]?
    var provider: String?
    var author: String?
    var publishedAt: Date?
    var attributes: [String: JSONValue]?
    var status: Item.Status?
}

/// An item as validated, ready to store.
struct ItemDraft: Sendable, Equatable {
    var key: String
    var type: String
    var title: String
    var categories: [String]
    var topics: [String]
    var provider: String?
    var author: String?
    var publishedAt: Date?
    var attributes: [String: JSONValue]
    var status: Item.Status
}

enum ItemRules {
    static let maxBulk = 1000
    static let maxLabels = 20
    static let maxAttributeBytes = 8192

    /// A key is the tenant's own: printable, no slash (it sits in a path), at most 200.
    static func key(_ raw: String?, _ field: String, _ v: inout Validator) -> String {
        guard let raw, !raw.isEmpty else {
            v.add(field, "is required")
            return ""
        }
        v.check(raw.unicodeScalars.count <= 200, field, "must be at most 200 characters")
        v.check(raw.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F && $0 != "/" }, field, "must be printable, without spaces or '/'")
        return raw
    }

    static func draft(_ input: ItemInput, key: String, prefix: String, _ v: inout Validator) -> ItemDraft {
        let type = v.text(input.type ?? "article", prefix + "type", max: 40) ?? "article"
        let title = v.text(input.title, prefix + "title", max: 500) ?? ""
        let categories = labels(input.categories, prefix + "categories", &v)
        let topics = labels(input.topics, prefix + "topics", &v)
        let provider = v.text(input.provider, prefix + "provider", max: 200, required: false).flatMap { $0.isEmpty ? nil : $0 }
        let author = v.text(input.author, prefix + "author", max: 200, required: false).flatMap { $0.isEmpty ? nil : $0 }
        let attributes = input.attributes ?? [:]
        let bytes = (try? JSONEncoder().encode(JSONValue.object(attributes)).count) ?? Int.max
        v.check(bytes <= maxAttributeBytes, prefix + "attributes", "must be at most \(maxAttributeBytes) bytes of JSON")
        return ItemDraft(
            key: key, type: type, title: title, categories: categories, topics: topics, provider: provider, author: author,
            publishedAt: input.publishedAt, attributes: attributes, status: input.status ?? .active)
    }

    /// Categories and topics: trimmed, lower-cased, each once, in the order given.
    static func labels(_ raw: [String]?, _ field: String, _ v: inout Validator) -> [String] {
        var seen: Set<String> = []
        let labels = (raw ?? []).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { seen.insert($0).inserted }
        v.check(labels.count <= maxLabels, field, "at most \(maxLabels)")
        v.check(labels.allSatisfy { (1...80).contains($0.count) }, field, "each must be 1 to 80 characters")
        return labels
    }
}
