import Foundation
import Mail
import Mustache
import ServiceKit

/// A version rendered for one recipient: what the email will say.
struct RenderedEmail: Codable, Sendable, Equatable {
    var subject: String
    var html: String
    var text: String
}

enum TemplateRendering {
    /// The context a template renders with: the subscriber (also at the top level as
    /// `email`, `name`, `attributes`), the platform's links, and the campaign's data.
    static func context(
        email: String, name: String, attributes: [String: JSONValue], data: [String: JSONValue], links: [String: String]
    ) -> [String: Any] {
        var context: [String: Any] = [:]
        for (key, value) in data { context[key] = any(value) }
        let subscriber: [String: Any] = ["email": email, "name": name, "attributes": any(.object(attributes))]
        context["subscriber"] = subscriber
        context["email"] = email
        context["name"] = name
        context["attributes"] = any(.object(attributes))
        for (key, value) in links { context[key] = value }
        return context
    }

    static func any(_ value: JSONValue) -> Any {
        switch value {
        case .null: return ""
        case .bool(let flag): return flag
        case .number(let number): return JSONValue.number(number).text
        case .string(let text): return text
        case .array(let items): return items.map(any)
        case .object(let members): return members.mapValues(any)
        }
    }

    /// Renders a version with the tenant's partials (compiled for this one use).
    static func render(_ version: TemplateVersion, partials: [String: String], context: [String: Any]) -> RenderedEmail {
        CompiledVersion(version, partials: partials).render(context)
    }

    /// The variables a version reads, and those of them the context does not hold.
    static func variables(_ version: TemplateVersion, context: [String: Any]) -> (used: [String], missing: [String]) {
        let used = [version.subject, version.html, version.text ?? ""].reduce(into: Set<String>()) { $0.formUnion(MustacheTags.variables(in: $1)) }
        return (used.sorted(), used.filter { context[$0] == nil }.sorted())
    }
}

/// A version's parts parsed once, to render for every recipient of a campaign. Subject and
/// text are not HTML-escaped; the HTML escapes every value. Without a text part, it is made
/// from the HTML.
struct CompiledVersion: Sendable {
    let subject: MustacheTemplate?
    let html: MustacheTemplate?
    let text: MustacheTemplate?
    let sources: TemplateVersion
    let library: MustacheLibrary
    let textLibrary: MustacheLibrary

    init(_ version: TemplateVersion, partials: [String: String]) {
        var library = MustacheLibrary()
        var textLibrary = MustacheLibrary()
        for (name, body) in partials {
            if let template = try? MustacheTemplate(string: body) { library.register(template, named: name) }
            if let template = try? MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + body) { textLibrary.register(template, named: name) }
        }
        self.library = library
        self.textLibrary = textLibrary
        self.sources = version
        subject = try? MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + version.subject)
        html = try? MustacheTemplate(string: version.html)
        text = version.text.flatMap { try? MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + $0) }
    }

    /// A part that does not parse renders as its source (versions were validated when saved).
    func render(_ context: [String: Any]) -> RenderedEmail {
        let html = self.html?.render(context, library: library) ?? sources.html
        let subject = (self.subject?.render(context, library: textLibrary) ?? sources.subject).replacingOccurrences(of: "\r", with: " ")
            .replacingOccurrences(of: "\n", with: " ")
        let text = self.text?.render(context, library: textLibrary) ?? sources.text ?? PlainText.from(html: html)
        return RenderedEmail(subject: subject, html: html, text: text)
    }
}
