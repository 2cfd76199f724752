import Foundation
import Mail
import Mustache

/// A template's parts: the subject (also the in-app title), the plain text (also the
/// in-app body) and optionally HTML.
struct TemplateParts: Codable, Sendable, Equatable {
    var subject: String
    var text: String
    var html: String?
}

/// What a rendered template says, ready for a channel.
struct RenderedMessage: Sendable, Equatable {
    var subject: String
    var text: String
    var html: String?
}

/// A template the platform ships for a key it sends, with the variables the sender
/// provides and sample values for previews.
struct BuiltInTemplate: Sendable {
    let key: String
    let parts: TemplateParts
    let sample: [String: String]

    /// Variables every template may use besides its own data.
    static let common: Set<String> = ["appUrl", "recipientName", "recipientEmail", "tenantName", "brandName", "brandLogoUrl", "brandColor"]
    var variables: Set<String> {
        Set(sample.keys).union(Self.common).union(key == TemplateCatalog.digestKey ? ["items", "title", "body", "count"] : [])
    }
}

enum TemplateError: Error, Equatable {
    case syntax(part: String, message: String)
    case unknownVariables(part: String, names: [String])
}

/// The built-in templates and rendering. Subjects and text render without HTML escaping;
/// the HTML part escapes every value.
enum TemplateCatalog {
    static let digestKey = "digest"
    static let defaultLocale = "en"

    /// Security emails (verification, password reset, invitation) carry one-time tokens in
    /// their links: they are always the platform's own, so no tenant admin can point a link
    /// at a host of theirs and collect another tenant's member's token.
    static func isSecurity(_ key: String) -> Bool { key.hasPrefix("auth.") }

    /// The tenant's logo and name above a security email (values HTML-escaped; the logo URL
    /// and colour were validated when saved), and its colour on the one link.
    static let brandHeader =
        "{{#brandLogoUrl}}<p><img src=\"{{brandLogoUrl}}\" alt=\"{{brandName}}\" height=\"40\"></p>{{/brandLogoUrl}}"
        + "{{^brandLogoUrl}}{{#brandName}}<p><strong>{{brandName}}</strong></p>{{/brandName}}{{/brandLogoUrl}}"

    static func button(_ href: String, _ label: String) -> String {
        "<a href=\"\(href)\" style=\"background:{{brandColor}};color:#ffffff;padding:10px 16px;border-radius:4px;text-decoration:none\">\(label)</a>"
    }

    static let builtIn: [String: BuiltInTemplate] = Dictionary(
        uniqueKeysWithValues: [
            BuiltInTemplate(
                key: "auth.verify_email",
                parts: TemplateParts(
                    subject: "Confirm your email address",
                    text:
                        "Hi {{name}},\n\nplease confirm your email address by opening this link:\n{{appUrl}}/verify-email?token={{token}}\n\nIf you did not sign up, ignore this message.",
                    html: brandHeader + "<p>Hi {{name}},</p><p>please confirm your email address:</p><p>"
                        + button("{{appUrl}}/verify-email?token={{token}}", "Confirm my address")
                        + "</p><p>If you did not sign up, ignore this message.</p>"),
                sample: ["name": "Ada Lovelace", "token": "sample-token"]),
            BuiltInTemplate(
                key: "auth.password_reset",
                parts: TemplateParts(
                    subject: "Reset your password",
                    text:
                        "Hi {{name}},\n\nsomeone asked to reset your password. To choose a new one, open:\n{{appUrl}}/reset-password?token={{token}}\n\nIf it was not you, ignore this message; your password stays as it is.",
                    html: brandHeader + "<p>Hi {{name}},</p><p>someone asked to reset your password.</p><p>"
                        + button("{{appUrl}}/reset-password?token={{token}}", "Choose a new password")
                        + "</p><p>If it was not you, ignore this message; your password stays as it is.</p>"),
                sample: ["name": "Ada Lovelace", "token": "sample-token"]),
            BuiltInTemplate(
                key: "auth.invitation",
                parts: TemplateParts(
                    subject: "{{inviterName}} invited you to {{tenantName}}",
                    text:
                        "{{inviterName}} invited you to join {{tenantName}} as {{role}}.\n\nAccept the invitation:\n{{appUrl}}/accept-invitation?token={{token}}",
                    html: brandHeader + "<p>{{inviterName}} invited you to join <strong>{{tenantName}}</strong> as {{role}}.</p><p>"
                        + button("{{appUrl}}/accept-invitation?token={{token}}", "Accept the invitation") + "</p>"),
                sample: ["tenantName": "Acme", "inviterName": "Grace Hopper", "role": "member", "token": "sample-token"]),
            BuiltInTemplate(
                key: "task-reminder",
                parts: TemplateParts(
                    subject: "Reminder: {{title}}",
                    text: "{{title}}{{#dueAt}} is due {{dueAt}}{{/dueAt}}.\n\n{{appUrl}}/tasks/{{taskId}}",
                    html:
                        "<p><strong>{{title}}</strong>{{#dueAt}} is due {{dueAt}}{{/dueAt}}.</p><p><a href=\"{{appUrl}}/tasks/{{taskId}}\">Open the task</a></p>"
                ),
                sample: ["title": "Send the quarterly report", "taskId": "0190f1d2-0000-7000-8000-000000000000", "dueAt": "2026-12-01T09:00:00Z"]),
            BuiltInTemplate(
                key: "photo-session-completed",
                parts: TemplateParts(
                    subject: "{{locationName}}: {{detected}} plants counted",
                    text:
                        "Your photos of {{locationName}}{{#productName}} ({{productName}}){{/productName}} are counted: {{detected}} detected{{#estimate}}, an estimated {{estimate}} ({{estimateRange}}){{/estimate}}.{{#warnings}}\n\nWarnings: {{warnings}}.{{/warnings}}\n\n{{appUrl}}/photo-sessions/{{sessionId}}",
                    html:
                        "<p>Your photos of <strong>{{locationName}}</strong>{{#productName}} ({{productName}}){{/productName}} are counted: {{detected}} detected{{#estimate}}, an estimated {{estimate}} ({{estimateRange}}){{/estimate}}.</p>{{#warnings}}<p>Warnings: {{warnings}}.</p>{{/warnings}}<p><a href=\"{{appUrl}}/photo-sessions/{{sessionId}}\">See the count</a></p>"
                ),
                sample: [
                    "locationName": "Bed 4", "productName": "Lavandula angustifolia P9", "detected": "512", "photos": "1", "estimate": "530",
                    "estimateRange": "505–556", "warnings": "no_calibration", "sessionId": "0190f1d2-0000-7000-8000-000000000002",
                ]),
            BuiltInTemplate(
                key: "photo-session-failed",
                parts: TemplateParts(
                    subject: "{{locationName}}: your photos could not be counted",
                    text: "Your photos of {{locationName}} could not be counted: {{error}}.\n\n{{appUrl}}/photo-sessions/{{sessionId}}",
                    html:
                        "<p>Your photos of <strong>{{locationName}}</strong> could not be counted: {{error}}.</p><p><a href=\"{{appUrl}}/photo-sessions/{{sessionId}}\">See the session</a></p>"
                ),
                sample: [
                    "locationName": "Bed 4", "error": "the photo is truncated", "detected": "0", "photos": "1",
                    "sessionId": "0190f1d2-0000-7000-8000-000000000002",
                ]),
            // Experience's daily digest: the articles come as plain text (data values are
            // escaped in HTML); the app shows the digest itself at /digests/{id}.
            BuiltInTemplate(
                key: "digest.daily",
                parts: TemplateParts(
                    subject: "Your digest for {{date}}: {{count}} articles",
                    text: "Your digest for {{date}}:\n\n{{articles}}\n\nRead it in your browser: {{appUrl}}/digests/{{digestId}}",
                    html: brandHeader + "<p>Your digest for {{date}}:</p><p style=\"white-space:pre-line\">{{articles}}</p><p>"
                        + button("{{appUrl}}/digests/{{digestId}}", "Read it in your browser") + "</p>"),
                sample: [
                    "date": "2026-12-07", "count": "2", "digestId": "0190f1d2-0000-7000-8000-000000000003",
                    "articles":
                        "ENERGY\n- Harbour city opens its first tidal power station (World Desk)\n  https://news.example/tidal\n\nSPORT\n- Late equaliser keeps the title race open (World Desk)",
                ]),
            BuiltInTemplate(
                key: "webhook-disabled",
                parts: TemplateParts(
                    subject: "A webhook endpoint was disabled",
                    text: "The webhook endpoint {{url}} was disabled: {{reason}}.\n\nFix it and enable it again in the admin console.",
                    html:
                        "<p>The webhook endpoint <code>{{url}}</code> was disabled: {{reason}}.</p><p>Fix it and enable it again in the admin console.</p>"
                ),
                sample: [
                    "url": "https://example.com/hooks", "reason": "it failed continuously for 5 days",
                    "endpointId": "0190f1d2-0000-7000-8000-000000000001",
                ]),
            BuiltInTemplate(
                key: digestKey,
                parts: TemplateParts(
                    subject: "Your daily digest: {{count}} notifications",
                    text: "{{#items}}- {{title}}\n{{/items}}",
                    html: "<ul>{{#items}}<li><strong>{{title}}</strong><br>{{body}}</li>{{/items}}</ul>"),
                sample: ["count": "2"]),
        ].map { ($0.key, $0) })

    /// Checks a tenant's parts for `key` before they are saved: each must parse, and may use
    /// only the variables the platform provides for that key.
    static func validate(_ parts: TemplateParts, key: String) throws(TemplateError) {
        let allowed = builtIn[key]?.variables ?? BuiltInTemplate.common
        for (name, text) in [("subject", parts.subject), ("text", parts.text), ("html", parts.html ?? "")] {
            do {
                _ = try MustacheTemplate(string: text)
            } catch {
                throw .syntax(part: name, message: "\(error)")
            }
            // Tags after a delimiter change are invisible to the variable check below.
            if MustacheTags.changesDelimiters(text) {
                throw .syntax(part: name, message: "changing the delimiters ({{=… …=}}) is not allowed")
            }
            let unknown = MustacheTags.variables(in: text).subtracting(allowed)
            if !unknown.isEmpty { throw .unknownVariables(part: name, names: unknown.sorted()) }
        }
    }

    /// A request's data with the variables every template may use (`BuiltInTemplate.common`).
    static func context(
        _ data: [String: String], appURL: String, recipientName: String, recipientEmail: String, brand: Branding? = nil
    ) -> [String: Any] {
        var context: [String: Any] = data
        for (name, value) in (brand ?? Branding()).variables { context[name] = value }
        context["appUrl"] = appURL
        context["recipientName"] = recipientName
        context["recipientEmail"] = recipientEmail
        return context
    }

    /// Renders `parts` with `data`. A part that does not parse renders as its source
    /// (tenant parts were validated when saved; built-ins are tested).
    static func render(_ parts: TemplateParts, data: [String: Any]) -> RenderedMessage {
        func render(_ text: String, html: Bool) -> String {
            let source = html ? text : "{{% CONTENT_TYPE: TEXT}}" + text
            guard let template = try? MustacheTemplate(string: source) else { return text }
            return template.render(data)
        }
        return RenderedMessage(
            subject: render(parts.subject, html: false).replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " "),
            text: render(parts.text, html: false), html: parts.html.map { render($0, html: true) })
    }
}
