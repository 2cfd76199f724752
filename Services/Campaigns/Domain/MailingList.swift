import Foundation
import ServiceKit

/// A list subscribers are on; campaigns are sent to lists and segments.
struct MailingList: Codable, Sendable, Equatable {
    enum Visibility: String, Codable, Sendable { case `public`, `private` }
    enum OptIn: String, Codable, Sendable { case single, double }

    var id: UUID
    var name: String
    var description: String?
    var visibility: Visibility
    var optIn: OptIn
    /// Members by status, in reads.
    var counts: [String: Int]?
    var version: Int
    var createdAt: Date
    var updatedAt: Date

    var etag: String { "\"v\(version)\"" }
}

/// A subscriber's place on a list.
struct ListMembership: Codable, Sendable, Equatable {
    enum Status: String, Codable, Sendable, CaseIterable { case unconfirmed, confirmed, unsubscribed }

    var listId: UUID
    var subscriberId: UUID
    var email: String
    var name: String
    var status: Status
    var createdAt: Date
    var updatedAt: Date
}

struct NewListInput: Decodable, Sendable {
    var name: String
    var description: String?
    var visibility: MailingList.Visibility?
    var optIn: MailingList.OptIn?
}

struct ListPatch: Decodable, Sendable {
    var name: PatchField<String> = .absent
    var description: PatchField<String> = .absent
    var visibility: PatchField<MailingList.Visibility> = .absent
    var optIn: PatchField<MailingList.OptIn> = .absent

    enum CodingKeys: String, CodingKey { case name, description, visibility, optIn }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.patch(.name)
        description = try c.patch(.description)
        visibility = try c.patch(.visibility)
        optIn = try c.patch(.optIn)
    }
}

/// The body of `POST /v1/campaigns/lists/{id}/subscribers`: who, and (for an admin adding
/// people who already agreed elsewhere) whether they count as confirmed.
struct AddMembersInput: Decodable, Sendable {
    var subscriberIds: [UUID]
    /// Defaults by the list: confirmed on a single opt-in list, unconfirmed on a double one.
    var status: ListMembership.Status?
}

struct Segment: Codable, Sendable, Equatable {
    var id: UUID
    var name: String
    var expression: String
    var version: Int
    var createdAt: Date
    var updatedAt: Date

    var etag: String { "\"v\(version)\"" }
}

struct SegmentInput: Decodable, Sendable {
    var name: String?
    var expression: String?
}
