import Foundation
import ServiceKit

/// One row of an import, checked, waiting to become a task. `ref` and `parentRef` link
/// rows of the same file (an exported id, or a Todoist row); a `parentRef` that names no
/// row of the file may name an existing task.
struct ImportRow: Codable, Sendable, Equatable {
    var line: Int
    var ref: String?
    var parentRef: String?
    var title: String
    var description: String?
    var status: TaskStatus
    var priority: Int
    var tags: [String]
    var dueAt: Date?
    var timeZone: String
    var projectId: UUID?
    var assigneeId: UUID?
    var estimateMinutes: Int?
    var remindAt: Date?
}

/// A problem with one row: its line (CSV) or position (JSON, from 1), and why.
struct RowError: Codable, Sendable, Equatable {
    var line: Int
    var field: String?
    var message: String
}

/// Reads an import body into rows. Every row is checked; the answer lists the rows that
/// passed and every problem of those that did not.
enum TaskImportFormat: String, Sendable {
    case json, csv, todoist

    static let maxRows = 100_000

    struct Parsed: Sendable {
        var rows: [ImportRow] = []
        var errors: [RowError] = []
        var warnings: [RowError] = []
    }

    /// From the content type and, for CSV, the header: ours or Todoist's.
    static func detect(contentType: String?, body: String) -> TaskImportFormat? {
        let type = contentType?.lowercased() ?? ""
        if type.hasPrefix("application/json") { return .json }
        guard type.hasPrefix("text/csv") else { return nil }
        let header = body.prefix { $0 != "\n" && $0 != "\r" }.uppercased()
        return header.contains("TYPE") && header.contains("CONTENT") ? .todoist : .csv
    }

    func parse(_ body: String) -> Parsed {
        switch self {
        case .json: Self.parseJSON(body)
        case .csv: Self.parseCSV(body)
        case .todoist: Self.parseTodoist(body)
        }
    }

    // MARK: Our JSON export: an array of task objects

    static func parseJSON(_ body: String) -> Parsed {
        var parsed = Parsed()
        guard let items = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [Any] else {
            parsed.errors.append(RowError(line: 0, field: nil, message: "the body must be a JSON array of tasks, as the JSON export writes it"))
            return parsed
        }
        guard items.count <= maxRows else {
            parsed.errors.append(RowError(line: 0, field: nil, message: "at most \(maxRows) rows per import"))
            return parsed
        }
        for (index, item) in items.enumerated() {
            guard let object = item as? [String: Any] else {
                parsed.errors.append(RowError(line: index + 1, field: nil, message: "must be an object"))
                continue
            }
            var fields: [String: String] = [:]
            var tags: [String]?
            for (key, value) in object {
                switch value {
                case let text as String: fields[key] = text
                case let number as NSNumber: fields[key] = number.stringValue
                case let list as [Any] where key == "tags": tags = list.compactMap { $0 as? String }
                default: break
                }
            }
            if let tags { fields["tags"] = tags.joined(separator: ",") }
            accept(row(line: index + 1, fields, ref: fields["id"], parentRef: fields["parentId"]), into: &parsed)
        }
        return parsed
    }

    // MARK: Our CSV export (any subset of its columns; `title` required)

    static func parseCSV(_ body: String) -> Parsed {
        var parsed = Parsed()
        guard let records = TaskCSV.records(body), let header = records.first else {
            parsed.errors.append(RowError(line: 0, field: nil, message: "the CSV is malformed (a quoted field is never closed) or empty"))
            return parsed
        }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        guard names.contains("title") else {
            parsed.errors.append(RowError(line: header.line, field: nil, message: "the header must name a title column"))
            return parsed
        }
        guard records.count - 1 <= maxRows else {
            parsed.errors.append(RowError(line: 0, field: nil, message: "at most \(maxRows) rows per import"))
            return parsed
        }
        for record in records.dropFirst() {
            guard record.fields.count == names.count else {
                parsed.errors.append(RowError(line: record.line, field: nil, message: "has \(record.fields.count) cells, the header \(names.count)"))
                continue
            }
            var fields: [String: String] = [:]
            for (name, value) in zip(names, record.fields) where !value.isEmpty { fields[name] = TaskCSV.unguard(value) }
            accept(row(line: record.line, fields, ref: fields["id"], parentRef: fields["parentId"]), into: &parsed)
        }
        return parsed
    }

    // MARK: Todoist's CSV export

    /// Todoist columns: TYPE (`task` rows are imported; `section`, `note` and blank rows
    /// are skipped), CONTENT → title, DESCRIPTION → description, PRIORITY (Todoist 4 = p1
    /// urgent → 4, 3 → 3 high, 2 → 2 medium, 1 → 0 none), INDENT (1 top level, 2 a subtask
    /// of the task above with indent 1, …) → parent, DATE → due date when it is an ISO date
    /// (`2026-12-01` or `2026-12-01 17:00`; natural-language dates such as "every monday"
    /// are left out with a warning), TIMEZONE → time zone, DURATION with DURATION_UNIT
    /// `minute` → estimate. AUTHOR, RESPONSIBLE and DATE_LANG are ignored.
    static func parseTodoist(_ body: String) -> Parsed {
        var parsed = Parsed()
        guard let records = TaskCSV.records(body), let header = records.first else {
            parsed.errors.append(RowError(line: 0, field: nil, message: "the CSV is malformed (a quoted field is never closed) or empty"))
            return parsed
        }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).uppercased() }
        func value(_ record: [String], _ name: String) -> String? {
            guard let index = names.firstIndex(of: name), index < record.count else { return nil }
            let text = record[index].trimmingCharacters(in: .whitespaces)
            return text.isEmpty ? nil : text
        }
        // The last task row seen at each indent: a row's parent is the one at indent - 1.
        var parents: [Int: String] = [:]
        for record in records.dropFirst() {
            guard value(record.fields, "TYPE")?.lowercased() == "task" else { continue }
            var fields: [String: String] = [:]
            fields["title"] = value(record.fields, "CONTENT")
            fields["description"] = value(record.fields, "DESCRIPTION")
            if let raw = value(record.fields, "PRIORITY") {
                fields["priority"] = ["4": "4", "3": "3", "2": "2", "1": "0"][raw] ?? raw
            }
            if let zone = value(record.fields, "TIMEZONE") { fields["timeZone"] = zone }
            if let date = value(record.fields, "DATE") {
                if let due = todoistDate(date, zone: fields["timeZone"]) {
                    fields["dueAt"] = ISO8601DateFormatter().string(from: due)
                } else {
                    parsed.warnings.append(
                        RowError(line: record.line, field: "DATE", message: "'\(date)' is not an ISO date; imported without a due date"))
                }
            }
            if let duration = value(record.fields, "DURATION"), value(record.fields, "DURATION_UNIT")?.lowercased() == "minute" {
                fields["estimateMinutes"] = duration
            }
            let indent = max(1, Int(value(record.fields, "INDENT") ?? "1") ?? 1)
            let ref = "line-\(record.line)"
            let parentRef = indent > 1 ? parents[indent - 1] : nil
            if indent > 1, parentRef == nil {
                parsed.errors.append(
                    RowError(line: record.line, field: "INDENT", message: "indent \(indent) has no task above it at indent \(indent - 1)"))
                continue
            }
            parents[indent] = ref
            parents = parents.filter { $0.key <= indent }
            accept(row(line: record.line, fields, ref: ref, parentRef: parentRef), into: &parsed)
        }
        return parsed
    }

    static func todoistDate(_ text: String, zone: String?) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")
        for format in ["yyyy-MM-dd HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return ISO8601DateFormatter().date(from: text)
    }

    // MARK: Checking one row

    static func accept(_ result: Result<ImportRow, RowErrors>, into parsed: inout Parsed) {
        switch result {
        case .success(let row): parsed.rows.append(row)
        case .failure(let errors): parsed.errors += errors.errors
        }
    }

    struct RowErrors: Error {
        var errors: [RowError]
    }

    /// The task rules of `POST /v1/tasks`, applied to one row's text fields.
    static func row(line: Int, _ fields: [String: String], ref: String?, parentRef: String?) -> Result<ImportRow, RowErrors> {
        var v = Validator()
        let title = TaskRules.title(fields["title"] ?? "", &v)
        let description = TaskRules.description(fields["description"], &v)
        var status = TaskStatus.todo
        if let raw = fields["status"] {
            if let parsed = TaskStatus(rawValue: raw) {
                status = parsed
            } else {
                v.add("status", "must be one of \(TaskStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
        var priority = 0
        if let raw = fields["priority"] {
            if let parsed = Int(raw), (0...4).contains(parsed) { priority = parsed } else { v.add("priority", "must be 0 to 4") }
        }
        let tags = TaskRules.tags((fields["tags"] ?? "").split(separator: ",").map(String.init), &v)
        let dueAt = date(fields["dueAt"], "dueAt", &v)
        let remindAt = TaskRules.remindAt(date(fields["remindAt"], "remindAt", &v), &v)
        let timeZone = TaskRules.timeZone(fields["timeZone"], &v) ?? "UTC"
        let projectId = uuid(fields["projectId"], "projectId", &v)
        let assigneeId = uuid(fields["assigneeId"], "assigneeId", &v)
        var estimate: Int?
        if let raw = fields["estimateMinutes"] {
            if let parsed = Int(raw) { estimate = TaskRules.estimate(parsed, &v) } else { v.add("estimateMinutes", "must be a whole number") }
        }
        guard v.errors.isEmpty else {
            return .failure(RowErrors(errors: v.errors.map { RowError(line: line, field: $0.field, message: $0.message) }))
        }
        return .success(
            ImportRow(
                line: line, ref: ref, parentRef: parentRef, title: title, description: description, status: status, priority: priority, tags: tags,
                dueAt: dueAt, timeZone: timeZone, projectId: projectId, assigneeId: assigneeId, estimateMinutes: estimate, remindAt: remindAt))
    }

    static func date(_ raw: String?, _ field: String, _ v: inout Validator) -> Date? {
        guard let raw else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: raw) ?? ISO8601DateFormatter().date(from: raw) { return date }
        v.add(field, "must be an RFC 3339 date-time")
        return nil
    }

    static func uuid(_ raw: String?, _ field: String, _ v: inout Validator) -> UUID? {
        guard let raw else { return nil }
        guard let id = UUID(uuidString: raw) else {
            v.add(field, "must be a UUID")
            return nil
        }
        return id
    }
}
