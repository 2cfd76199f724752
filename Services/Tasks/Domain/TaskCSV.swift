import Foundation
import ServiceKit

/// Our CSV export format (RFC 4180), read back by import.
enum TaskCSV {
    static let columns = [
        "id", "title", "description", "status", "priority", "tags", "dueAt", "timeZone", "projectId", "parentId", "assigneeId",
        "estimateMinutes", "remindAt", "createdAt", "completedAt",
    ]

    static var header: String { columns.joined(separator: ",") + "\r\n" }

    static func row(_ task: TaskItem) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        func date(_ value: Date?) -> String { value.map { formatter.string(from: $0) } ?? "" }
        func id(_ value: UUID?) -> String { value?.uuidString.lowercased() ?? "" }
        let cells = [
            id(task.id), task.title, task.description ?? "", task.status.rawValue, String(task.priority), task.tags.joined(separator: ", "),
            date(task.dueAt), task.timeZone, id(task.projectId), id(task.parentId), id(task.assigneeId), task.estimateMinutes.map(String.init) ?? "",
            date(task.remindAt), date(task.createdAt), date(task.completedAt),
        ]
        return cells.map(cell).joined(separator: ",") + "\r\n"
    }

    static func cell(_ value: String) -> String { CSVCell.escape(value) }

    /// Undoes `cell`'s formula guard on import.
    static func unguard(_ value: String) -> String {
        guard value.hasPrefix("'"), let second = value.dropFirst().first, "=+-@\t\r".contains(second) else { return value }
        return String(value.dropFirst())
    }

    /// RFC 4180 records (quoted fields may hold commas, quotes and line breaks), each
    /// with the line number it starts on. nil: a quote is never closed.
    static func records(_ text: String) -> [(line: Int, fields: [String])]? {
        var records: [(Int, [String])] = []
        var fields: [String] = []
        var field = ""
        var quoted = false
        var line = 1
        var recordLine = 1
        var chars = Array(text.unicodeScalars)
        if chars.first == "\u{FEFF}" { chars.removeFirst() }
        var index = 0
        func endRecord() {
            fields.append(field)
            field = ""
            if !(fields.count == 1 && fields[0].isEmpty) { records.append((recordLine, fields)) }
            fields = []
        }
        while index < chars.count {
            let c = chars[index]
            if quoted {
                if c == "\"" {
                    if index + 1 < chars.count, chars[index + 1] == "\"" {
                        field.unicodeScalars.append("\"")
                        index += 1
                    } else {
                        quoted = false
                    }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
            } else if c == "\"" && field.isEmpty {
                quoted = true
            } else if c == "," {
                fields.append(field)
                field = ""
            } else if c == "\r" || c == "\n" {
                if c == "\r", index + 1 < chars.count, chars[index + 1] == "\n" { index += 1 }
                endRecord()
                line += 1
                recordLine = line
            } else {
                field.unicodeScalars.append(c)
            }
            index += 1
        }
        if quoted { return nil }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        return records
    }
}
