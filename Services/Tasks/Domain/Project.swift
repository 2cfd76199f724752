import Contracts
import Foundation
import ServiceKit

/// A project groups tasks; archived ones are kept but take no new tasks.
struct Project: Codable, Sendable, Equatable {
    var id: UUID
    var name: String
    var description: String?
    var archived: Bool
    var archivedAt: Date?
    /// The order of the project's task list when a request names none.
    var defaultSort: TaskSort
    var version: Int
    var createdAt: Date
    var updatedAt: Date

    var etag: String { "\"v\(version)\"" }

    func changedEvent(tenantID: UUID) -> ProjectChanged {
        ProjectChanged(
            projectId: id, tenantId: tenantID, name: name, description: description, archived: archived, version: version, occurredAt: updatedAt)
    }
}

struct NewProjectInput: Decodable, Sendable {
    var name: String
    var description: String?
    var defaultSort: TaskSort?
}

struct ProjectPatch: Decodable, Sendable {
    var name: PatchField<String> = .absent
    var description: PatchField<String> = .absent
    var defaultSort: PatchField<TaskSort> = .absent

    enum CodingKeys: String, CodingKey { case name, description, defaultSort }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.patch(.name)
        description = try c.patch(.description)
        defaultSort = try c.patch(.defaultSort)
    }
}

enum ProjectRules {
    static func name(_ value: String, _ v: inout Validator) -> String {
        v.text(value, "name", max: 200) ?? ""
    }

    static func description(_ value: String?, _ v: inout Validator) -> String? {
        guard let value else { return nil }
        v.check(value.utf8.count <= 10 * 1024, "description", "must be at most 10 KB")
        return value
    }
}
