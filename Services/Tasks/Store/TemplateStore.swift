import Foundation
import Persistence
import PostgresNIO
import ServiceKit

enum TemplateStoreError: Error, Equatable {
    case notFound
    case nameTaken
    case missingVariables([String])
    /// Filled with the given values, some titles or descriptions break the task rules.
    case filledInvalid([Problem.FieldError])
}

/// Task templates: saved trees, instantiated into real tasks in one transaction.
struct TemplateStore: Sendable {
    let database: Database
    let tasks: TaskStore

    static let columns = "id, name, description, tree::text, version, created_at, updated_at"

    static func templates(_ rows: PostgresRowSequence) async throws -> [TaskTemplate] {
        var templates: [TaskTemplate] = []
        for try await (id, name, description, tree, version, created, updated) in rows.decode((UUID, String, String?, String, Int, Date, Date).self) {
            let tasks = (try? JSONDecoder().decode([TemplateTask].self, from: Data(tree.utf8))) ?? []
            var v = Validator()
            let variables = TemplateRules.check(tasks, &v)
            templates.append(
                TaskTemplate(
                    id: id, name: name, description: description, tasks: tasks, variables: variables, version: version, createdAt: created,
                    updatedAt: updated))
        }
        return templates
    }

    func create(name: String, description: String?, tasks: [TemplateTask], tenant: UUID, actor: String) async throws -> TaskTemplate {
        let tree = String(decoding: try JSONEncoder().encode(tasks), as: UTF8.self)
        do {
            return try await database.withTenant(tenant) { connection in
                let rows = try await connection.query(
                    """
                    INSERT INTO tasks.task_templates (id, tenant_id, name, description, tree, created_by)
                    VALUES (\(UUID.v7()), \(tenant), \(name), \(description), \(tree)::jsonb, \(actor))
                    RETURNING \(unescaped: Self.columns)
                    """, logger: database.logger)
                guard let template = try await Self.templates(rows).first else { throw TemplateStoreError.notFound }
                return template
            }
        } catch  where error.sqlState == SQLState.uniqueViolation {
            throw TemplateStoreError.nameTaken
        }
    }

    func list(tenant: UUID, before cursor: UUID?, limit: Int) async throws -> [TaskTemplate] {
        try await database.withTenant(tenant) { connection in
            try await Self.templates(
                try await connection.query(
                    """
                    SELECT \(unescaped: Self.columns) FROM tasks.task_templates
                    WHERE (\(cursor)::uuid IS NULL OR id < \(cursor)) ORDER BY id DESC LIMIT \(limit)
                    """, logger: database.logger))
        }
    }

    func get(_ id: UUID, tenant: UUID) async throws -> TaskTemplate {
        try await database.withTenant(tenant) { connection in
            guard
                let template = try await Self.templates(
                    try await connection.query(
                        "SELECT \(unescaped: Self.columns) FROM tasks.task_templates WHERE id = \(id)", logger: database.logger)
                ).first
            else { throw TemplateStoreError.notFound }
            return template
        }
    }

    func delete(_ id: UUID, tenant: UUID) async throws {
        try await database.withTenant(tenant) { connection in
            var deleted = false
            for try await _ in try await connection.query(
                "DELETE FROM tasks.task_templates WHERE id = \(id) RETURNING 1", logger: database.logger)
            {
                deleted = true
            }
            if !deleted { throw TemplateStoreError.notFound }
        }
    }

    /// The tree under an existing task, due dates as offsets from the earliest of them.
    func snapshot(_ taskID: UUID, tenant: UUID) async throws -> [TemplateTask] {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                """
                WITH RECURSIVE subtree AS (
                  SELECT id FROM tasks.tasks WHERE id = \(taskID) AND deleted_at IS NULL
                  UNION SELECT t.id FROM tasks.tasks t JOIN subtree s ON t.parent_id = s.id WHERE t.deleted_at IS NULL
                )
                SELECT \(unescaped: TaskStore.columns) FROM tasks.tasks WHERE id IN (SELECT id FROM subtree) ORDER BY position, id
                """, logger: database.logger)
            let all = try await TaskStore.tasks(rows)
            guard let root = all.first(where: { $0.id == taskID }) else { throw TaskStoreError.notFound }
            let base = all.compactMap(\.dueAt).min()
            func node(_ task: TaskItem) -> TemplateTask {
                var due: String?
                if let base, let dueAt = task.dueAt {
                    let hours = Int((dueAt.timeIntervalSince(base) / 3600).rounded())
                    due = hours % 24 == 0 ? "+\(hours / 24)d" : "+\(hours)h"
                }
                let children = all.filter { $0.parentId == task.id }.map(node)
                return TemplateTask(
                    title: task.title, description: task.description, priority: task.priority, tags: task.tags, estimateMinutes: task.estimateMinutes,
                    due: due, subtasks: children.isEmpty ? nil : children)
            }
            return [node(root)]
        }
    }

    /// Creates the template's tasks under `parentId` (or at the top), in one transaction.
    func instantiate(
        _ template: TaskTemplate, values: [String: String], start: Date, zone: TimeZone, projectId: UUID?, parentId: UUID?, tenant: UUID,
        actor: String
    ) async throws -> [TaskItem] {
        let missing = template.variables.filter { values[$0] == nil }
        if !missing.isEmpty { throw TemplateStoreError.missingVariables(missing) }
        var check = Validator()
        let tree = TemplateRules.filled(template.tasks, values, &check)
        if !check.errors.isEmpty { throw TemplateStoreError.filledInvalid(check.errors) }
        return try await tasks.mapReferenceErrors {
            try await database.withTenant(tenant) { connection in
                var roots: [TaskItem] = []
                func create(_ node: TemplateTask, under parent: UUID?, root: Bool) async throws {
                    let now = Date()
                    let draft = TaskItem(
                        id: .v7(), projectId: projectId, parentId: parent, title: node.title, description: node.description, status: .todo,
                        priority: node.priority ?? 0,
                        tags: node.tags ?? [], dueAt: TemplateRules.dueDate(node.due, from: start, in: zone), timeZone: zone.identifier, position: 0,
                        assigneeId: nil, estimateMinutes: node.estimateMinutes, remindAt: nil, createdBy: UUID(uuidString: actor), version: 1,
                        createdAt: now, updatedAt: now, completedAt: nil)
                    let task = try await tasks.insert(draft, position: nil, tenant: tenant, actor: actor, on: connection)
                    if root { roots.append(task) }
                    for child in node.subtasks ?? [] { try await create(child, under: task.id, root: false) }
                }
                for node in tree { try await create(node, under: parentId, root: true) }
                return roots
            }
        }
    }
}
