import Foundation
import Mail
import TestSupport
import Testing

@testable import Notifications

@Suite("notification templates")
struct TemplateTests {
    @Test("an admin overrides a template, sends with it, and reverting brings back the built-in; other tenants keep the built-in")
    func overrideAndRevert() async throws {
        let tenant = UUID.v7()
        let user = UUID.v7()
        let address = "tpl-\(UUID().uuidString.prefix(8))@example.com"
        try await addMember(tenant: tenant, user: user, email: address)
        let body: [String: Any] = ["subject": "Nudge: {{title}}", "text": "Hello {{recipientName}}, {{title}} waits.", "html": "<p>{{title}}</p>"]
        let saved = try await call("PUT", "/v1/admin/notification-templates/task-reminder", tenant: tenant, roles: ["admin"], json: body)
        #expect(saved.status == 200)
        #expect(saved.string("locale") == "en")
        let catalog = try await call("GET", "/v1/admin/notification-templates", tenant: tenant, roles: ["owner"])
        #expect((catalog.json["overrides"] as? [[String: Any]])?.count == 1)
        #expect((catalog.json["builtIn"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String }.contains("auth.verify_email"))
        #expect(
            (try await call("GET", "/v1/admin/notification-templates", tenant: .v7(), roles: ["admin"]).json["overrides"] as? [Any])?.isEmpty == true)

        try await accept(request(tenant: tenant, user: user, data: ["title": "Feed the cat", "taskId": "t"]))
        let mail = try #require(try await Mailbox.first(to: address))
        #expect(mail.subject == "Nudge: Feed the cat")
        #expect(mail.parts["text/plain"] == "Hello Ada Lovelace, Feed the cat waits.")

        #expect(try await call("DELETE", "/v1/admin/notification-templates/task-reminder", tenant: tenant, roles: ["admin"]).status == 204)
        #expect(try await call("DELETE", "/v1/admin/notification-templates/task-reminder", tenant: tenant, roles: ["admin"]).status == 404)
        try await accept(request(tenant: tenant, user: user, data: ["title": "Feed the dog", "taskId": "t"], channels: ["in_app"]))
        #expect(inboxTitles(try await call("GET", "/v1/notifications", tenant: tenant, user: user)).first == "Reminder: Feed the dog")
    }

    @Test("a template using a variable its key does not provide, or that does not parse, is refused at save time")
    func validation() async throws {
        let tenant = UUID.v7()
        let unknown = try await call(
            "PUT", "/v1/admin/notification-templates/task-reminder", tenant: tenant, roles: ["admin"],
            json: ["subject": "Hi {{title}}", "text": "Your code: {{code}} {{#extra}}x{{/extra}}"])
        #expect(unknown.status == 422)
        let message = (unknown.json["errors"] as? [[String: Any]])?.first?["message"] as? String ?? ""
        #expect(message.contains("code") && message.contains("extra"))
        let broken = try await call(
            "PUT", "/v1/admin/notification-templates/task-reminder", tenant: tenant, roles: ["admin"],
            json: ["subject": "Hi", "text": "{{#title}}never closed"])
        #expect(broken.status == 422)
        // New delimiters would hide variables from the allow-list.
        for text in ["{{=<% %>=}}<% secret %>", "{{ =| |= }}|secret|", "Hi {{title}} {{=[[ ]]=}}"] {
            let hidden = try await call(
                "PUT", "/v1/admin/notification-templates/task-reminder", tenant: tenant, roles: ["admin"], json: ["subject": "Hi", "text": text])
            #expect(hidden.status == 422, "\(text)")
        }
        let empty = try await call(
            "PUT", "/v1/admin/notification-templates/task-reminder", tenant: tenant, roles: ["admin"], json: ["subject": " ", "text": "x"])
        #expect(empty.status == 422)
        #expect(
            try await call("PUT", "/v1/admin/notification-templates/task-reminder", tenant: tenant, roles: ["admin"], json: ["text": "x"]).status
                == 422)
        #expect(
            try await call(
                "PUT", "/v1/admin/notification-templates/no.such.key", tenant: tenant, roles: ["admin"], json: ["subject": "a", "text": "b"]
            ).status == 404)
        #expect(
            try await call(
                "PUT", "/v1/admin/notification-templates/task-reminder", tenant: tenant, roles: ["member"], json: ["subject": "a", "text": "b"]
            ).status == 403)
        #expect(
            (try await call("GET", "/v1/admin/notification-templates", tenant: tenant, roles: ["admin"]).json["overrides"] as? [Any])?.isEmpty == true
        )
    }

    @Test(
        "security emails cannot be overridden, and one stored before that rule is never used",
        arguments: ["auth.password_reset", "auth.verify_email", "auth.invitation"])
    func securityTemplatesArePlatformOnly(_ key: String) async throws {
        let tenant = UUID.v7()
        let attack: [String: Any] = ["subject": "Reset", "text": "https://evil.example/steal?token={{token}}"]
        let refused = try await call("PUT", "/v1/admin/notification-templates/\(key)", tenant: tenant, roles: ["owner"], json: attack)
        #expect(refused.status == 403)
        #expect(refused.headers["content-type"] == "application/problem+json")
        #expect(
            try await call("POST", "/v1/admin/notification-templates/\(key)/preview", tenant: tenant, roles: ["owner"], json: attack).status == 403)

        // An override written before the rule existed (straight into the table) is ignored.
        try await withDatabase("notifications") { database in
            try await database.withTenant(tenant) { connection in
                _ = try await connection.query(
                    """
                    INSERT INTO notifications.templates (tenant_id, template_key, locale, subject, text_body)
                    VALUES (\(tenant), \(key), 'en', 'Reset', 'https://evil.example/steal?token={{token}}')
                    """, logger: database.logger)
            }
        }
        #expect(
            (try await call("GET", "/v1/admin/notification-templates", tenant: tenant, roles: ["admin"]).json["overrides"] as? [Any])?.isEmpty == true
        )
        let address = "sec-\(UUID().uuidString.prefix(8))@example.com"
        try await accept(
            request(
                tenant: tenant, email: address, category: "security", template: key,
                data: ["name": "Ada", "token": "tok-\(key)", "tenantName": "Acme", "inviterName": "Eve", "role": "member"],
                channels: ["email"], priority: .urgent))
        let mail = try #require(try await Mailbox.first(to: address))
        #expect(mail.parts["text/plain"]?.contains("https://app.test/") == true)
        #expect(mail.parts["text/plain"]?.contains("evil.example") == false)
    }

    @Test("a security email never enters the inbox, and its token is not kept once the email is sent")
    func securityTokenNotKept() async throws {
        let tenant = UUID.v7()
        let user = UUID.v7()
        let address = "tok-\(UUID().uuidString.prefix(8))@example.com"
        try await addMember(tenant: tenant, user: user, email: address)
        let key = UUID().uuidString
        try await accept(
            request(
                tenant: tenant, user: user, category: "security", template: "auth.password_reset", data: ["name": "Ada", "token": "tok-secret-1"],
                channels: ["email", "in_app"], priority: .urgent, key: key))
        let mail = try #require(try await Mailbox.first(to: address))
        #expect(mail.parts["text/plain"]?.contains("tok-secret-1") == true)
        #expect(inboxTitles(try await call("GET", "/v1/notifications", tenant: tenant, user: user)).isEmpty)
        let kept = try await eventually(timeout: .seconds(10)) {
            try await withDatabase("notifications") { database in
                try await database.withTenant(tenant) { connection in
                    try await connection.query(
                        "SELECT data::text || body FROM notifications.notifications WHERE idempotency_key = \(key)", logger: database.logger
                    ).decode(String.self).reduce(into: [String]()) { $0.append($1) }
                }
            } == ["{}"]
        }
        #expect(kept)
    }

    @Test("a tenant brands the platform's emails (name, logo, colour), security emails included, without touching their links")
    func branding() async throws {
        let tenant = UUID.v7()
        let other = UUID.v7()
        for bad in [
            ["logoUrl": "http://cdn.acme.test/logo.png"], ["logoUrl": "javascript:alert(1)"], ["color": "red"], ["color": "#12345g"], ["name": " "],
        ] {
            let refused = try await call("PUT", "/v1/admin/notification-branding", tenant: tenant, roles: ["admin"], json: bad)
            #expect(refused.status == 422, "\(bad)")
            #expect(refused.contentType == "application/problem+json")
        }
        #expect(try await call("PUT", "/v1/admin/notification-branding", tenant: tenant, roles: ["member"], json: ["name": "Acme"]).status == 403)
        let brand: [String: Any] = ["name": "Acme <Gardens>", "logoUrl": "https://cdn.acme.test/logo.png?v=1&s=2", "color": "#FF5500"]
        #expect(try await call("PUT", "/v1/admin/notification-branding", tenant: tenant, roles: ["owner"], json: brand).status == 200)
        #expect(try await call("GET", "/v1/admin/notification-branding", tenant: tenant, roles: ["admin"]).string("name") == "Acme <Gardens>")
        #expect(try await call("GET", "/v1/admin/notification-branding", tenant: other, roles: ["admin"]).string("name") == nil)

        func reset(_ tenant: UUID) async throws -> DeliveredMail {
            let address = "brand-\(UUID().uuidString.prefix(8))@example.com"
            try await accept(
                request(
                    tenant: tenant, email: address, category: "security", template: "auth.password_reset", data: ["name": "Ada", "token": "tok-b"],
                    channels: ["email"], priority: .urgent))
            return try #require(try await Mailbox.first(to: address))
        }
        let branded = try #require(try await reset(tenant).parts["text/html"])
        #expect(branded.contains("<img src=\"https://cdn.acme.test/logo.png?v=1&amp;s=2\" alt=\"Acme &lt;Gardens&gt;\""))
        #expect(branded.contains("background:#ff5500"))
        #expect(branded.contains("href=\"https://app.test/reset-password?token=tok-b\""))
        let plain = try #require(try await reset(other).parts["text/html"])
        #expect(!plain.contains("<img"))
        #expect(plain.contains("background:\(Branding.defaultColor)"))

        #expect(try await call("DELETE", "/v1/admin/notification-branding", tenant: tenant, roles: ["admin"]).status == 204)
        #expect(try await call("DELETE", "/v1/admin/notification-branding", tenant: tenant, roles: ["admin"]).status == 404)
    }

    @Test("the preview renders with sample data and escapes HTML")
    func preview() async throws {
        let answer = try await call(
            "POST", "/v1/admin/notification-templates/task-reminder/preview", tenant: .v7(), roles: ["admin"],
            json: ["subject": "In {{tenantName}}", "text": "Do {{title}}", "html": "<b>{{title}}</b> {{appUrl}}"])
        #expect(answer.status == 200)
        #expect(answer.string("subject") == "In Acme")
        #expect(answer.string("text") == "Do Send the quarterly report")
        #expect(answer.string("html") == "<b>Send the quarterly report</b> https://app.example.com")
    }

    @Test("every built-in template parses and uses only its own variables")
    func builtIns() throws {
        for template in TemplateCatalog.builtIn.values {
            try TemplateCatalog.validate(template.parts, key: template.key)
        }
        #expect(
            MustacheTags.variables(in: "{{a}} {{{b}}} {{&c}} {{#d}}{{e.f}}{{/d}} {{^g}}{{/g}} {{! note}} {{> partial}}") == [
                "a", "b", "c", "d", "e", "g",
            ])
    }
}
