import Contracts
import Foundation
import Logging
import Persistence
import PostgresNIO
import ServiceKit

/// A task's history: who changed what, when. Written in the transaction of the change.
enum ActivityLog {
    struct Entry: Codable, Sendable {
        var id: Int64
        var actor: String?
        var action: String
        /// Field → `{from, to}` for updates; the initial fields for `created`.
        var changes: JSONObject
        var at: Date
    }

    /// Raw JSON carried through to the answer.
    struct JSONObject: Codable, Sendable {
        var json: String

        init(json: String) { self.json = json }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            let value = (try? JSONDecoder().decode(AnyJSON.self, from: Data(json.utf8))) ?? .object([:])
            try container.encode(value)
        }

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(AnyJSON.self)
            json = String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
        }
    }

    static func record(
        _ task: UUID, tenant: UUID, actor: String?, action: String, changes: [String: Any], on connection: PostgresConnection
    ) async throws {
        let json = String(decoding: (try? JSONSerialization.data(withJSONObject: changes, options: [.sortedKeys])) ?? Data("{}".utf8), as: UTF8.self)
        try await connection.query(
            """
            INSERT INTO tasks.task_activity (tenant_id, task_id, actor, action, changes)
            VALUES (\(tenant), \(task), \(actor), \(action), \(json)::jsonb)
            """, logger: quiet)
    }

    /// The task's fields as the API shows them, by name.
    static func fields(of task: TaskItem) -> [String: Any] {
        guard let data = try? PlatformJSON.encoder.encode(task), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            return [:]
        }
        return object.filter { !["id", "version", "createdAt", "updatedAt", "blocked", "progress", "createdBy"].contains($0.key) }
    }

    /// `{field: {from, to}}` for the fields that differ.
    static func changes(from previous: TaskItem, to next: TaskItem) -> [String: Any] {
        let before = fields(of: previous)
        let after = fields(of: next)
        var changes: [String: Any] = [:]
        for field in next.changedFields(since: previous) ?? [] {
            changes[field] = ["from": before[field] ?? NSNull(), "to": after[field] ?? NSNull()]
        }
        return changes
    }

    /// Oldest first; the cursor is the last entry's id.
    static func list(_ task: UUID, after: Int64?, limit: Int, on connection: PostgresConnection) async throws -> [Entry] {
        var entries: [Entry] = []
        for try await (id, actor, action, changes, at) in try await connection.query(
            """
            SELECT id, actor, action, changes::text, at FROM tasks.task_activity
            WHERE task_id = \(task) AND id > \(after ?? 0) ORDER BY id LIMIT \(limit)
            """, logger: quiet
        ).decode((Int64, String?, String, String, Date).self) {
            entries.append(Entry(id: id, actor: actor, action: action, changes: JSONObject(json: changes), at: at))
        }
        return entries
    }

    static let quiet = Logger(label: "tasks.activity")
}

/// Any JSON value, for passing stored JSON through unchanged.
indirect enum AnyJSON: Codable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([AnyJSON])
    case object([String: AnyJSON])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([AnyJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: AnyJSON].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}
