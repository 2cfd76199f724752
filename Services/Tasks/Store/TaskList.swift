import Foundation
import PostgresNIO

/// `GET /v1/tasks`: filtered, in a total order, resumed by keyset cursor. Rows that change
/// or arrive while a client pages through never make another row appear twice or vanish.
extension TaskStore {
    struct ListPosition: Codable, Sendable {
        var sort: TaskSort
        /// The sort key of the last row (`TaskSort.keyText`).
        var key: String
        var id: UUID
    }

    func list(tenant: UUID, query: TaskQuery, after cursor: ListPosition?, limit: Int) async throws -> [(TaskItem, ListPosition)] {
        let sort = query.sort
        let order = sort.descending ? "DESC" : "ASC"
        let comparison = sort.descending ? "<" : ">"
        let pattern = query.q.map {
            "%"
                + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(
                    of: "_", with: "\\_") + "%"
        }
        return try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                """
                SELECT \(unescaped: Self.columns), \(unescaped: sort.keyText) AS sort_key FROM tasks.tasks
                WHERE deleted_at IS NULL
                  AND (\(query.status?.rawValue)::text IS NULL OR status = \(query.status?.rawValue))
                  AND (\(query.parentId)::uuid IS NULL OR parent_id = \(query.parentId))
                  AND (\(query.projectId)::uuid IS NULL OR project_id = \(query.projectId))
                  AND (\(query.assigneeId)::uuid IS NULL OR assignee_id = \(query.assigneeId))
                  AND (\(query.tag)::text IS NULL OR \(query.tag) = ANY(tags))
                  AND (\(query.dueBefore)::timestamptz IS NULL OR due_at < \(query.dueBefore))
                  AND (\(query.dueAfter)::timestamptz IS NULL OR due_at >= \(query.dueAfter))
                  AND (\(query.priority.map(Int16.init))::smallint IS NULL OR priority = \(query.priority.map(Int16.init)))
                  AND (\(pattern)::text IS NULL OR title ILIKE \(pattern) OR description ILIKE \(pattern))
                  AND (\(cursor?.key)::text IS NULL
                       OR ((\(unescaped: sort.key)), id) \(unescaped: comparison) (\(unescaped: sort.cursorOpen)\(cursor?.key)\(unescaped: sort.cursorClose), \(cursor?.id)))
                ORDER BY \(unescaped: sort.key) \(unescaped: order), id \(unescaped: order)
                LIMIT \(limit)
                """, logger: database.logger)
            var page: [(TaskItem, ListPosition)] = []
            for try await row in rows {
                let task = try Self.task(row)
                page.append((task, ListPosition(sort: sort, key: try row.makeRandomAccess()["sort_key"].decode(String.self), id: task.id)))
            }
            return page
        }
    }

    /// The project's order for its task list, when a request names none.
    func defaultSort(project: UUID, tenant: UUID) async throws -> TaskSort? {
        try await database.withTenant(tenant) { connection in
            for try await sort in try await connection.query(
                "SELECT default_sort FROM tasks.projects WHERE id = \(project)", logger: database.logger
            ).decode(String.self) {
                return TaskSort(rawValue: sort)
            }
            return nil
        }
    }
}
