import Foundation
import Mail
import Mustache
import ServiceKit

/// A tenant's email template: a name and kind over immutable versions.
struct Template: Codable, Sendable, Equatable {
    enum Kind: String, Codable, Sendable { case marketing, transactional }

    var id: UUID
    var name: String
    var kind: Kind
    var latestVersion: Int
    /// The latest version's content, in reads of one template.
    var latest: TemplateVersion?
    var createdAt: Date
    var updatedAt: Date

    /// The ETag follows the latest version: a save must name the version it edits.
    var etag: String { "\"v\(latestVersion)\"" }
}

/// One saved state of a template; never changed once written.
struct TemplateVersion: Codable, Sendable, Equatable {
    var templateId: UUID
    var version: Int
    var subject: String
    var html: String
    /// Absent: made from the HTML when sent.
    var text: String?
    /// Variables the template declares (campaign data), besides the platform's.
    var variables: [String]
    var restoredFrom: Int?
    var createdBy: String
    var createdAt: Date
}

/// The body of `POST /v1/campaigns/templates` (and, without name and kind, of a new version).
struct TemplateInput: Decodable, Sendable {
    var name: String?
    var kind: Template.Kind?
    var subject: String
    var html: String
    var text: String?
    var variables: [String]?
}

struct TemplatePatch: Decodable, Sendable {
    var name: String?
    var kind: Template.Kind?
}

/// A reason a template is refused, with the part it is in.
struct TemplateProblem: Codable, Sendable, Equatable, Error {
    var part: String
    var message: String
}

/// A tenant's shared piece (`{{> header}}`).
struct Partial: Codable, Sendable, Equatable {
    var name: String
    var body: String
    var version: Int
    var updatedAt: Date

    var etag: String { "\"v\(version)\"" }
}

enum TemplateRules {
    /// What every campaign email may read besides a template's declared variables.
    static let platform: Set<String> = [
        "subscriber", "email", "name", "attributes", "unsubscribeUrl", "preferencesUrl", "campaign", "tenantName",
    ]
    static let maxSubject = 500
    static let maxHTML = 512 * 1024
    static let maxText = 256 * 1024

    static func variables(_ names: [String]?, _ v: inout Validator) -> [String] {
        let names = names ?? []
        v.check(names.count <= 100, "variables", "at most 100")
        v.check(
            names.allSatisfy { $0.range(of: "^[A-Za-z_][A-Za-z0-9_]{0,63}$", options: .regularExpression) != nil }, "variables",
            "names are letters, digits and _, starting with a letter or _")
        v.check(
            Set(names).isDisjoint(with: platform), "variables", "must not redeclare the platform's (\(platform.sorted().joined(separator: ", ")))")
        return Array(Set(names)).sorted()
    }

    /// Checks the parts of a version: sizes, Mustache syntax, no delimiter changes, only
    /// known variables and partials, and `{{unsubscribeUrl}}` in a marketing template.
    static func problems(
        subject: String, html: String, text: String?, variables: [String], kind: Template.Kind, partials: Set<String>
    ) -> [TemplateProblem] {
        var problems: [TemplateProblem] = []
        if subject.trimmingCharacters(in: .whitespaces).isEmpty { problems.append(.init(part: "subject", message: "is required")) }
        if subject.count > maxSubject { problems.append(.init(part: "subject", message: "is longer than \(maxSubject) characters")) }
        if subject.contains("\n") || subject.contains("\r") { problems.append(.init(part: "subject", message: "must be one line")) }
        if html.utf8.count > maxHTML { problems.append(.init(part: "html", message: "is larger than \(maxHTML) bytes")) }
        if html.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { problems.append(.init(part: "html", message: "is required")) }
        if let text, text.utf8.count > maxText { problems.append(.init(part: "text", message: "is larger than \(maxText) bytes")) }
        let known = platform.union(variables)
        for (part, source) in [("subject", subject), ("html", html), ("text", text ?? "")] where !source.isEmpty {
            do {
                _ = try MustacheTemplate(string: source)
            } catch {
                problems.append(.init(part: part, message: "is not valid Mustache: \(error)"))
                continue
            }
            if MustacheTags.changesDelimiters(source) {
                problems.append(.init(part: part, message: "changes the delimiters ({{=… …=}}), which is not allowed"))
                continue
            }
            let unknown = MustacheTags.variables(in: source).subtracting(known)
            if !unknown.isEmpty {
                problems.append(.init(part: part, message: "uses undeclared variables: \(unknown.sorted().joined(separator: ", "))"))
            }
            let missing = MustacheTags.partials(in: source).subtracting(partials)
            if !missing.isEmpty {
                problems.append(.init(part: part, message: "includes unknown partials: \(missing.sorted().joined(separator: ", "))"))
            }
        }
        if kind == .marketing {
            if !MustacheTags.variables(in: html).contains("unsubscribeUrl") {
                problems.append(.init(part: "html", message: "a marketing template must contain {{unsubscribeUrl}}"))
            }
            if let text, !text.isEmpty, !MustacheTags.variables(in: text).contains("unsubscribeUrl") {
                problems.append(.init(part: "text", message: "a marketing template must contain {{unsubscribeUrl}}"))
            }
        }
        return problems
    }
}
