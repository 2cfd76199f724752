import Foundation
import ServiceKit

/// One task of a template, with its subtasks.
struct TemplateTask: Codable, Sendable, Equatable {
    var title: String
    var description: String?
    var priority: Int?
    var tags: [String]?
    var estimateMinutes: Int?
    /// Due this long after the start: `+30m`, `+4h`, `+3d`, `+2w` (days and weeks on the
    /// wall clock of the instantiation's time zone).
    var due: String?
    var subtasks: [TemplateTask]?
}

struct TaskTemplate: Codable, Sendable {
    var id: UUID
    var name: String
    var description: String?
    var tasks: [TemplateTask]
    /// The `{{variables}}` its titles and descriptions use.
    var variables: [String]
    var version: Int
    var createdAt: Date
    var updatedAt: Date
}

enum TemplateRules {
    static let maxTasks = 500

    /// Checks a tree: task rules, offsets, depth and size. Answers the variables used.
    static func check(_ tasks: [TemplateTask], _ v: inout Validator) -> [String] {
        var count = 0
        var variables: Set<String> = []
        func walk(_ tasks: [TemplateTask], path: String, level: Int) {
            for (index, task) in tasks.enumerated() {
                let at = "\(path)[\(index)]"
                count += 1
                var inner = Validator()
                _ = TaskRules.title(task.title, &inner)
                _ = TaskRules.description(task.description, &inner)
                _ = TaskRules.priority(task.priority, &inner)
                _ = TaskRules.tags(task.tags ?? [], &inner)
                _ = TaskRules.estimate(task.estimateMinutes, &inner)
                if let due = task.due, offset(due) == nil { inner.add("due", "must look like +30m, +4h, +3d or +2w") }
                for error in inner.errors { v.add("\(at).\(error.field)", error.message) }
                variables.formUnion(names(in: task.title) + names(in: task.description ?? ""))
                if level >= TaskRules.maxDepth, !(task.subtasks ?? []).isEmpty {
                    v.add("\(at).subtasks", "would nest tasks deeper than \(TaskRules.maxDepth) levels")
                } else {
                    walk(task.subtasks ?? [], path: "\(at).subtasks", level: level + 1)
                }
            }
        }
        walk(tasks, path: "tasks", level: 1)
        v.check(count >= 1, "tasks", "must hold at least one task")
        v.check(count <= maxTasks, "tasks", "must hold at most \(maxTasks) tasks in all")
        return variables.sorted()
    }

    enum Unit: String { case m, h, d, w }

    static func offset(_ text: String) -> (Int, Unit)? {
        guard text.hasPrefix("+"), let unit = text.last.flatMap({ Unit(rawValue: String($0)) }),
            let amount = Int(text.dropFirst().dropLast()), (0...3650).contains(amount)
        else { return nil }
        return (amount, unit)
    }

    static func dueDate(_ text: String?, from start: Date, in zone: TimeZone) -> Date? {
        guard let text, let (amount, unit) = offset(text) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        switch unit {
        case .m: return start.addingTimeInterval(Double(amount) * 60)
        case .h: return start.addingTimeInterval(Double(amount) * 3600)
        case .d: return calendar.date(byAdding: .day, value: amount, to: start)
        case .w: return calendar.date(byAdding: .day, value: amount * 7, to: start)
        }
    }

    /// `{{ name }}` placeholders: letters, digits, `_`, `-`, `.`.
    static func names(in text: String) -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            if !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "_-.".contains($0) }) { names.append(name) }
            rest = rest[close.upperBound...]
        }
        return names
    }

    /// Replaces each placeholder with its value in one pass. Values are literal: a value
    /// holding `{{other}}` stays as written, so no value can grow by expanding another.
    static func fill(_ text: String, _ values: [String: String]) -> String {
        var result = ""
        var rest = Substring(text)
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            result += rest[..<open.lowerBound]
            result += values[name] ?? String(rest[open.lowerBound..<close.upperBound])
            rest = rest[close.upperBound...]
        }
        return result + rest
    }

    /// The tree with its titles and descriptions filled, checked again by the task rules:
    /// a template of short lines can still expand past a task's limits.
    static func filled(_ tasks: [TemplateTask], _ values: [String: String], _ v: inout Validator) -> [TemplateTask] {
        func walk(_ tasks: [TemplateTask], path: String, _ v: inout Validator) -> [TemplateTask] {
            tasks.enumerated().map { index, task in
                var task = task
                var inner = Validator()
                task.title = TaskRules.title(fill(task.title, values), &inner)
                task.description = TaskRules.description(task.description.map { fill($0, values) }, &inner)
                for error in inner.errors { v.add("tasks\(path)[\(index)].\(error.field)", "once filled, \(error.message)") }
                task.subtasks = task.subtasks.map { walk($0, path: "\(path)[\(index)].subtasks", &v) }
                return task
            }
        }
        return walk(tasks, path: "", &v)
    }
}
