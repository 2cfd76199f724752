import Foundation
import ServiceKit

/// What `GET /v1/tasks` (and a saved filter) asks for: filters and a sort.
struct TaskQuery: Codable, Sendable, Equatable {
    var status: TaskStatus?
    var projectId: UUID?
    var parentId: UUID?
    var tag: String?
    var assigneeId: UUID?
    var dueBefore: Date?
    var dueAfter: Date?
    var priority: Int?
    var q: String?
    var sort: TaskSort = .newest

    static let parameters: Set<String> = [
        "status", "projectId", "parentId", "tag", "assigneeId", "dueBefore", "dueAfter", "priority", "q", "sort",
    ]

    /// Parses query parameters; every bad one is reported at once (422).
    init(_ query: [String: String]) throws {
        var v = Validator()
        if let raw = query["status"] {
            status = TaskStatus(rawValue: raw)
            v.check(status != nil, "status", "must be one of \(TaskStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        projectId = Self.uuid(query["projectId"], "projectId", &v)
        parentId = Self.uuid(query["parentId"], "parentId", &v)
        assigneeId = Self.uuid(query["assigneeId"], "assigneeId", &v)
        if let raw = query["tag"] {
            tag = raw.trimmingCharacters(in: .whitespaces).lowercased()
            v.check((1...TaskRules.maxTagLength).contains(tag?.count ?? 0), "tag", "must be 1 to \(TaskRules.maxTagLength) characters")
        }
        dueBefore = Self.date(query["dueBefore"], "dueBefore", &v)
        dueAfter = Self.date(query["dueAfter"], "dueAfter", &v)
        if let raw = query["priority"] {
            priority = Int(raw)
            v.check(priority.map { (0...4).contains($0) } ?? false, "priority", "must be 0 to 4")
        }
        if let raw = query["q"] {
            q = raw.trimmingCharacters(in: .whitespaces)
            v.check((1...200).contains(q?.count ?? 0), "q", "must be 1 to 200 characters")
        }
        if let raw = query["sort"] {
            if let parsed = TaskSort(rawValue: raw) {
                sort = parsed
            } else {
                v.add("sort", "must be one of \(TaskSort.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
        try v.finish()
    }

    static func uuid(_ raw: String?, _ field: String, _ v: inout Validator) -> UUID? {
        guard let raw else { return nil }
        let value = UUID(uuidString: raw)
        v.check(value != nil, field, "must be a UUID")
        return value
    }

    static func date(_ raw: String?, _ field: String, _ v: inout Validator) -> Date? {
        guard let raw else { return nil }
        let value = ISO8601DateFormatter().date(from: raw)
        v.check(value != nil, field, "must be an RFC 3339 date-time such as 2026-12-01T17:00:00Z")
        return value
    }
}

/// The orders a list can be read in; `-` means descending. Every order ends with the id,
/// so it is total and a cursor (the last row's key and id) resumes exactly after it.
enum TaskSort: String, Codable, Sendable, CaseIterable {
    case newest = "-createdAt"
    case oldest = "createdAt"
    case dueSoonest = "dueAt"
    case dueLatest = "-dueAt"
    case priorityHighest = "-priority"
    case priorityLowest = "priority"
    case position

    /// The SQL expression sorted on (no due date sorts after every due date).
    var key: String {
        switch self {
        case .newest, .oldest: "created_at"
        case .dueSoonest, .dueLatest: "COALESCE(due_at, 'infinity'::timestamptz)"
        case .priorityHighest, .priorityLowest: "priority::bigint"
        case .position: "position"
        }
    }

    var isTime: Bool {
        switch self {
        case .newest, .oldest, .dueSoonest, .dueLatest: true
        case .priorityHighest, .priorityLowest, .position: false
        }
    }

    /// The key as text the cursor carries: UTC with microseconds, `infinity`, or a number.
    var keyText: String {
        isTime
            ? "CASE WHEN isfinite(\(key)) THEN to_char(\(key) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') ELSE 'infinity' END"
            : "(\(key))::text"
    }

    /// SQL around the cursor's bound key to read it back (checked by `accepts` first, so
    /// the cast cannot fail).
    var cursorOpen: String { "(CAST(" }
    var cursorClose: String { isTime ? " AS timestamp) AT TIME ZONE 'UTC')" : " AS bigint))" }

    /// Whether a cursor key is one this sort produced: a forged cursor is a 400, never a
    /// failing cast.
    func accepts(_ text: String) -> Bool {
        guard isTime else { return Int64(text) != nil }
        if text == "infinity" { return true }
        return Self.keyFormat.date(from: text) != nil
    }

    private static let keyFormat: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSSSSS"
        formatter.isLenient = false
        return formatter
    }()

    var descending: Bool { rawValue.hasPrefix("-") }
}
