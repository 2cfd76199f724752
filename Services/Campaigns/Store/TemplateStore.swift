import Foundation
import Persistence
import PostgresNIO

/// SQL for templates and their versions.
struct TemplateStore: Sendable {
    let database: Database

    static let columns = "id, name, kind, latest_version, created_at, updated_at"
    static let versionColumns = "template_id, version, subject, html, text_body, variables, restored_from, created_by, created_at"

    static func templates(_ rows: PostgresRowSequence) async throws -> [Template] {
        var found: [Template] = []
        for try await (id, name, kind, latest, created, updated) in rows.decode((UUID, String, String, Int, Date, Date).self) {
            found.append(
                Template(
                    id: id, name: name, kind: Template.Kind(rawValue: kind) ?? .marketing, latestVersion: latest, latest: nil, createdAt: created,
                    updatedAt: updated))
        }
        return found
    }

    static func versions(_ rows: PostgresRowSequence) async throws -> [TemplateVersion] {
        var found: [TemplateVersion] = []
        for try await (template, version, subject, html, text, variables, restoredFrom, createdBy, created) in rows.decode(
            (UUID, Int, String, String, String?, [String], Int?, String, Date).self)
        {
            found.append(
                TemplateVersion(
                    templateId: template, version: version, subject: subject, html: html, text: text, variables: variables,
                    restoredFrom: restoredFrom, createdBy: createdBy, createdAt: created))
        }
        return found
    }

    func uniqueName<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch  where error.sqlState == SQLState.uniqueViolation {
            throw CampaignsError.duplicateName
        }
    }

    /// The names of the tenant's partials, which templates may include.
    static func partialNames(on connection: PostgresConnection, logger: Logger) async throws -> Set<String> {
        var names: Set<String> = []
        for try await name in try await connection.query("SELECT name FROM campaigns.partials", logger: logger).decode(String.self) {
            names.insert(name)
        }
        return names
    }

    static func validate(_ content: TemplateVersion, kind: Template.Kind, on connection: PostgresConnection, logger: Logger) async throws {
        let problems = TemplateRules.problems(
            subject: content.subject, html: content.html, text: content.text, variables: content.variables, kind: kind,
            partials: try await partialNames(on: connection, logger: logger))
        guard problems.isEmpty else { throw CampaignsError.template(problems) }
    }

    func create(name: String, kind: Template.Kind, content: TemplateVersion, tenant: UUID) async throws -> Template {
        try await uniqueName {
            try await database.withTenant(tenant) { connection in
                try await Self.validate(content, kind: kind, on: connection, logger: database.logger)
                let id = UUID.v7()
                try await connection.query(
                    "INSERT INTO campaigns.templates (id, tenant_id, name, kind) VALUES (\(id), \(tenant), \(name), \(kind.rawValue))",
                    logger: database.logger)
                try await insert(content, template: id, version: 1, tenant: tenant, on: connection)
                guard let created = try await fetch(id, lock: false, on: connection) else { throw CampaignsError.notFound }
                return created
            }
        }
    }

    private func insert(_ content: TemplateVersion, template: UUID, version: Int, tenant: UUID, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO campaigns.template_versions
              (tenant_id, template_id, version, subject, html, text_body, variables, restored_from, created_by)
            VALUES (\(tenant), \(template), \(version), \(content.subject), \(content.html), \(content.text), \(content.variables),
                    \(content.restoredFrom), \(content.createdBy))
            """, logger: database.logger)
    }

    func get(_ id: UUID, tenant: UUID) async throws -> Template {
        try await database.withTenant(tenant) { connection in
            guard let found = try await fetch(id, lock: false, on: connection) else { throw CampaignsError.notFound }
            return found
        }
    }

    /// The template with its latest version's content.
    func fetch(_ id: UUID, lock: Bool, on connection: PostgresConnection) async throws -> Template? {
        guard
            var template = try await Self.templates(
                try await connection.query(
                    "SELECT \(unescaped: Self.columns) FROM campaigns.templates WHERE id = \(id) \(unescaped: lock ? "FOR UPDATE" : "")",
                    logger: database.logger)
            ).first
        else { return nil }
        template.latest = try await version(template.latestVersion, of: id, on: connection)
        return template
    }

    func version(_ number: Int, of template: UUID, on connection: PostgresConnection) async throws -> TemplateVersion? {
        try await Self.versions(
            try await connection.query(
                """
                SELECT \(unescaped: Self.versionColumns) FROM campaigns.template_versions
                WHERE template_id = \(template) AND version = \(number)
                """, logger: database.logger)
        ).first
    }

    func version(_ number: Int, of template: UUID, tenant: UUID) async throws -> TemplateVersion {
        try await database.withTenant(tenant) { connection in
            guard try await fetch(template, lock: false, on: connection) != nil else { throw CampaignsError.notFound }
            guard let found = try await version(number, of: template, on: connection) else { throw CampaignsError.templateVersionMissing(number) }
            return found
        }
    }

    func list(tenant: UUID, before cursor: UUID?, limit: Int) async throws -> [Template] {
        try await database.withTenant(tenant) { connection in
            try await Self.templates(
                try await connection.query(
                    """
                    SELECT \(unescaped: Self.columns) FROM campaigns.templates
                    WHERE (\(cursor)::uuid IS NULL OR id < \(cursor)) ORDER BY id DESC LIMIT \(limit)
                    """, logger: database.logger))
        }
    }

    /// Versions newest first (cursor pages by version number).
    func versions(of template: UUID, tenant: UUID, below cursor: Int?, limit: Int) async throws -> [TemplateVersion] {
        try await database.withTenant(tenant) { connection in
            guard try await fetch(template, lock: false, on: connection) != nil else { throw CampaignsError.notFound }
            return try await Self.versions(
                try await connection.query(
                    """
                    SELECT \(unescaped: Self.versionColumns) FROM campaigns.template_versions
                    WHERE template_id = \(template) AND (\(cursor)::int IS NULL OR version < \(cursor))
                    ORDER BY version DESC LIMIT \(limit)
                    """, logger: database.logger))
        }
    }

    /// A new version on top of `expectedLatest` (the ETag the editor read): 412 when
    /// someone saved in between.
    func save(_ content: TemplateVersion, template id: UUID, expectedLatest: Int?, tenant: UUID) async throws -> Template {
        try await database.withTenant(tenant) { connection in
            guard let current = try await fetch(id, lock: true, on: connection) else { throw CampaignsError.notFound }
            if let expectedLatest, expectedLatest != current.latestVersion { throw CampaignsError.versionMismatch(current: current.latestVersion) }
            try await Self.validate(content, kind: current.kind, on: connection, logger: database.logger)
            let next = current.latestVersion + 1
            try await insert(content, template: id, version: next, tenant: tenant, on: connection)
            try await connection.query(
                "UPDATE campaigns.templates SET latest_version = \(next), updated_at = now() WHERE id = \(id)", logger: database.logger)
            guard let saved = try await fetch(id, lock: false, on: connection) else { throw CampaignsError.notFound }
            return saved
        }
    }

    /// An old version saved again as the newest, naming where it came from.
    func restore(_ number: Int, template id: UUID, actor: String, tenant: UUID) async throws -> Template {
        let old = try await version(number, of: id, tenant: tenant)
        var content = old
        content.restoredFrom = number
        content.createdBy = actor
        return try await save(content, template: id, expectedLatest: nil, tenant: tenant)
    }

    func rename(_ id: UUID, name: String?, kind: Template.Kind?, tenant: UUID) async throws -> Template {
        try await uniqueName {
            try await database.withTenant(tenant) { connection in
                guard let current = try await fetch(id, lock: true, on: connection) else { throw CampaignsError.notFound }
                let newKind = kind ?? current.kind
                if newKind == .marketing, current.kind != .marketing, let latest = current.latest {
                    try await Self.validate(latest, kind: newKind, on: connection, logger: database.logger)
                }
                try await connection.query(
                    """
                    UPDATE campaigns.templates SET name = \(name ?? current.name), kind = \(newKind.rawValue), updated_at = now() WHERE id = \(id)
                    """, logger: database.logger)
                guard let updated = try await fetch(id, lock: false, on: connection) else { throw CampaignsError.notFound }
                return updated
            }
        }
    }

    /// Refused (409) while a campaign pins one of its versions.
    func delete(_ id: UUID, tenant: UUID) async throws {
        do {
            try await database.withTenant(tenant) { connection in
                guard try await fetch(id, lock: true, on: connection) != nil else { throw CampaignsError.notFound }
                try await connection.query("DELETE FROM campaigns.templates WHERE id = \(id)", logger: database.logger)
            }
        } catch  where error.sqlState == SQLState.foreignKeyViolation {
            throw CampaignsError.inUse("a campaign pins one of its versions")
        }
    }

    /// The tenant's partials by name, for rendering.
    func partials(tenant: UUID) async throws -> [String: String] {
        try await database.withTenant(tenant) { connection in try await Self.partials(on: connection, logger: database.logger) }
    }

    static func partials(on connection: PostgresConnection, logger: Logger) async throws -> [String: String] {
        var found: [String: String] = [:]
        for try await (name, body) in try await connection.query("SELECT name, body FROM campaigns.partials", logger: logger).decode(
            (String, String).self)
        {
            found[name] = body
        }
        return found
    }
}
