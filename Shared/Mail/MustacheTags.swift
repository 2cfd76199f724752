import Foundation

/// What a Mustache template reads, found without rendering it: for checking a template
/// against the variables its sender provides before it is saved.
public enum MustacheTags {
    /// The contents of a template's tags, trimmed, triple mustaches without their braces.
    public static func tags(in template: String) -> [String] {
        var tags: [String] = []
        var rest = Substring(template)
        while let open = rest.range(of: "{{") {
            rest = rest[open.upperBound...]
            guard let close = rest.range(of: "}}") else { break }
            var tag = rest[..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            rest = rest[close.upperBound...]
            if tag.hasPrefix("{") {
                tag.removeFirst()
                if rest.hasPrefix("}") { rest = rest.dropFirst() }
            }
            tags.append(tag)
        }
        return tags
    }

    /// The names a template reads (sections and inverted sections included); dotted names
    /// count by their first component.
    public static func variables(in template: String) -> Set<String> {
        var names = Set<String>()
        for var tag in tags(in: template) {
            guard let sigil = tag.first else { continue }
            if "!>%=/".contains(sigil) { continue }
            if "#^&".contains(sigil) { tag.removeFirst() }
            let name = tag.trimmingCharacters(in: .whitespaces).split(separator: ".").first.map(String.init) ?? ""
            if !name.isEmpty { names.insert(name) }
        }
        return names
    }

    /// The partials a template includes (`{{> name}}`).
    public static func partials(in template: String) -> Set<String> {
        Set(tags(in: template).filter { $0.hasPrefix(">") }.map { $0.dropFirst().trimmingCharacters(in: .whitespaces) })
    }

    /// True when the template changes its delimiters (`{{=<% %>=}}`): tags after it are
    /// invisible to the checks above, so such templates are refused.
    public static func changesDelimiters(_ template: String) -> Bool {
        tags(in: template).contains { $0.hasPrefix("=") }
    }
}
