import Foundation
import ServiceKit

/// Someone a tenant may email.
struct Subscriber: Codable, Sendable, Equatable {
    enum Status: String, Codable, Sendable, CaseIterable {
        case enabled, blocklisted
    }

    var id: UUID
    /// Normalised: trimmed and lower-cased.
    var email: String
    var name: String
    /// Free-form, a JSON object: what segments filter on and templates show.
    var attributes: [String: JSONValue]
    var status: Status
    var version: Int
    var createdAt: Date
    var updatedAt: Date

    var etag: String { "\"v\(version)\"" }
}

/// The body of `POST /v1/campaigns/subscribers`.
struct NewSubscriberInput: Decodable, Sendable {
    var email: String
    var name: String?
    var attributes: [String: JSONValue]?
    var status: Subscriber.Status?
    /// Lists to put the subscriber on at once.
    var lists: [UUID]?
}

/// The body of `PATCH /v1/campaigns/subscribers/{id}`: attributes replace the whole object.
struct SubscriberPatch: Decodable, Sendable {
    var email: String?
    var name: String?
    var attributes: [String: JSONValue]?
    var status: Subscriber.Status?
}

enum SubscriberRules {
    static let maxAttributeBytes = 16 * 1024
    static let maxAttributeDepth = 5

    static func email(_ raw: String, _ v: inout Validator) -> String {
        guard let address = EmailAddress.normalised(raw) else {
            v.add("email", "is not an email address")
            return ""
        }
        return address
    }

    static func name(_ raw: String?, _ v: inout Validator) -> String {
        guard let raw else { return "" }
        return v.text(raw, "name", max: 200, required: false) ?? ""
    }

    static func attributes(_ raw: [String: JSONValue]?, _ v: inout Validator) -> [String: JSONValue] {
        guard let raw else { return [:] }
        let value = JSONValue.object(raw)
        let bytes = (try? JSONEncoder().encode(value).count) ?? Int.max
        v.check(bytes <= maxAttributeBytes, "attributes", "must be at most \(maxAttributeBytes) bytes of JSON")
        v.check(value.depth <= maxAttributeDepth, "attributes", "must nest at most \(maxAttributeDepth) levels")
        v.check(
            raw.keys.allSatisfy { !$0.isEmpty && $0.count <= 64 && !$0.contains(".") }, "attributes", "keys must be 1 to 64 characters without '.'")
        return raw
    }
}
