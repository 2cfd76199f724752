import Foundation
import ServiceKit

/// The body of `POST /v1/tasks`.
struct NewTaskInput: Decodable, Sendable {
    var title: String
    var description: String?
    var projectId: UUID?
    var parentId: UUID?
    var status: TaskStatus?
    var priority: Int?
    var dueAt: Date?
    var timeZone: String?
    var position: Int64?
    var tags: [String]?
    var assigneeId: UUID?
    var estimateMinutes: Int?
    var remindAt: Date?
    var recurrence: String?
}

/// The body of `PATCH /v1/tasks/{id}`: only the fields present change; null clears.
struct TaskPatch: Decodable, Sendable {
    var title: PatchField<String> = .absent
    var description: PatchField<String> = .absent
    var projectId: PatchField<UUID> = .absent
    var parentId: PatchField<UUID> = .absent
    var status: PatchField<TaskStatus> = .absent
    var priority: PatchField<Int> = .absent
    var dueAt: PatchField<Date> = .absent
    var timeZone: PatchField<String> = .absent
    var position: PatchField<Int64> = .absent
    var tags: PatchField<[String]> = .absent
    var assigneeId: PatchField<UUID> = .absent
    var estimateMinutes: PatchField<Int> = .absent
    var remindAt: PatchField<Date> = .absent
    var recurrence: PatchField<String> = .absent

    enum CodingKeys: String, CodingKey {
        case title, description, projectId, parentId, status, priority, dueAt, timeZone, position, tags, assigneeId, estimateMinutes, remindAt,
            recurrence
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        title = try c.patch(.title)
        description = try c.patch(.description)
        projectId = try c.patch(.projectId)
        parentId = try c.patch(.parentId)
        status = try c.patch(.status)
        priority = try c.patch(.priority)
        dueAt = try c.patch(.dueAt)
        timeZone = try c.patch(.timeZone)
        position = try c.patch(.position)
        tags = try c.patch(.tags)
        assigneeId = try c.patch(.assigneeId)
        estimateMinutes = try c.patch(.estimateMinutes)
        remindAt = try c.patch(.remindAt)
        recurrence = try c.patch(.recurrence)
    }
}

/// The rules on task fields, shared by create and update.
enum TaskRules {
    static let maxTitle = 500
    /// Bytes of UTF-8 (markdown text).
    static let maxDescription = 100 * 1024
    /// A task and its subtasks reach at most this many levels.
    static let maxDepth = 7
    static let maxTags = 20
    static let maxTagLength = 50

    static func title(_ value: String, _ v: inout Validator) -> String {
        v.text(value, "title", max: maxTitle) ?? ""
    }

    static func description(_ value: String?, _ v: inout Validator) -> String? {
        guard let value else { return nil }
        v.check(value.utf8.count <= maxDescription, "description", "must be at most 100 KB")
        return value
    }

    /// Trimmed, lower-cased, de-duplicated tags.
    static func tags(_ value: [String], _ v: inout Validator) -> [String] {
        v.check(value.count <= maxTags, "tags", "must hold at most \(maxTags) tags")
        var seen: [String] = []
        for (index, raw) in value.enumerated() {
            let tag = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            if tag.isEmpty || tag.count > maxTagLength {
                v.add("tags[\(index)]", "must be 1 to \(maxTagLength) characters")
            } else if !seen.contains(tag) {
                seen.append(tag)
            }
        }
        return seen
    }

    /// A reminder may be in the past (it goes out at once), not absurdly far ahead.
    static func remindAt(_ value: Date?, _ v: inout Validator) -> Date? {
        if let value { v.check(value < Date().addingTimeInterval(10 * 366 * 86400), "remindAt", "must be within ten years") }
        return value
    }

    static func priority(_ value: Int?, _ v: inout Validator) -> Int? {
        if let value { v.check((0...4).contains(value), "priority", "must be 0 (none) to 4 (urgent)") }
        return value
    }

    /// An IANA time zone name such as `Europe/Berlin`.
    static func timeZone(_ value: String?, _ v: inout Validator) -> String? {
        guard let value else { return nil }
        v.check(value.count <= 64 && TimeZone(identifier: value) != nil, "timeZone", "must be an IANA time zone such as Europe/Berlin")
        return value
    }

    /// A rule `Recurrence` understands, on a task with a due date.
    static func recurrence(_ value: String?, dueAt: Date?, _ v: inout Validator) -> String? {
        guard let value else { return nil }
        do {
            _ = try Recurrence(value)
            v.check(dueAt != nil, "recurrence", "needs a due date to recur from")
        } catch {
            v.add("recurrence", "\(error)")
        }
        return value
    }

    static func estimate(_ value: Int?, _ v: inout Validator) -> Int? {
        if let value { v.check((0...100_000).contains(value), "estimateMinutes", "must be from 0 to 100000") }
        return value
    }
}
