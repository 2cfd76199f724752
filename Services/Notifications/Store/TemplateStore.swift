import Foundation
import Persistence
import PostgresNIO

/// A tenant's template overrides.
struct TemplateStore: Sendable {
    let database: Database

    struct Override: Codable, Sendable, Equatable {
        var key: String
        var locale: String
        var subject: String
        var text: String
        var html: String?
        var updatedAt: Date
    }

    /// The parts to render `key` with: the tenant's for the locale, else the tenant's in
    /// the default locale, else the built-in; nil for a key nobody defined.
    func parts(for key: String, locale: String, on connection: PostgresConnection) async throws -> TemplateParts? {
        try await choices(for: [key], on: connection).parts(for: key, locale: locale)
    }

    /// The tenant's overrides of `keys` in every locale, to choose from for many requests.
    func choices(for keys: Set<String>, on connection: PostgresConnection) async throws -> TemplateChoices {
        let rows = try await connection.query(
            "SELECT template_key, locale, subject, text_body, html_body FROM notifications.templates WHERE template_key = ANY(\(Array(keys)))",
            logger: database.logger)
        var choices = TemplateChoices()
        for try await (key, locale, subject, text, html) in rows.decode((String, String, String, String, String?).self) {
            choices.overrides[TemplateChoices.Slot(key: key, locale: locale)] = TemplateParts(subject: subject, text: text, html: html)
        }
        return choices
    }

    func overrides(tenant: UUID) async throws -> [Override] {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                """
                SELECT template_key, locale, subject, text_body, html_body, updated_at FROM notifications.templates
                ORDER BY template_key, locale
                """, logger: database.logger)
            var overrides: [Override] = []
            // Security overrides saved before they were refused are never used, so not shown.
            for try await (key, locale, subject, text, html, updated) in rows.decode((String, String, String, String, String?, Date).self)
            where !TemplateCatalog.isSecurity(key) {
                overrides.append(Override(key: key, locale: locale, subject: subject, text: text, html: html, updatedAt: updated))
            }
            return overrides
        }
    }

    func save(_ parts: TemplateParts, key: String, locale: String, tenant: UUID) async throws -> Override {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                """
                INSERT INTO notifications.templates (tenant_id, template_key, locale, subject, text_body, html_body)
                VALUES (\(tenant), \(key), \(locale), \(parts.subject), \(parts.text), \(parts.html))
                ON CONFLICT (tenant_id, template_key, locale) DO UPDATE
                  SET subject = excluded.subject, text_body = excluded.text_body, html_body = excluded.html_body, updated_at = now()
                RETURNING updated_at
                """, logger: database.logger)
            var updated = Date()
            for try await (at, ) in rows.decode((Date,).self) { updated = at }
            return Override(key: key, locale: locale, subject: parts.subject, text: parts.text, html: parts.html, updatedAt: updated)
        }
    }

    /// False when the tenant had no override for that key and locale.
    func delete(key: String, locale: String, tenant: UUID) async throws -> Bool {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                "DELETE FROM notifications.templates WHERE template_key = \(key) AND locale = \(locale) RETURNING 1", logger: database.logger)
            for try await _ in rows { return true }
            return false
        }
    }
}

/// A tenant's overrides of some templates, and how one is chosen for a key and locale.
struct TemplateChoices: Sendable {
    struct Slot: Hashable, Sendable {
        var key: String
        var locale: String
    }

    var overrides: [Slot: TemplateParts] = [:]

    /// The tenant's for the locale, else the tenant's in the default locale, else the
    /// built-in; security emails always the built-in, whatever was stored.
    func parts(for key: String, locale: String) -> TemplateParts? {
        if TemplateCatalog.isSecurity(key) { return TemplateCatalog.builtIn[key]?.parts }
        return overrides[Slot(key: key, locale: locale)] ?? overrides[Slot(key: key, locale: TemplateCatalog.defaultLocale)]
            ?? TemplateCatalog.builtIn[key]?.parts
    }
}
