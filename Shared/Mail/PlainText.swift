import Foundation

/// The text part of an email made from its HTML when the template gives none: block
/// elements become line breaks, links keep their address, entities are decoded, and
/// anything in `<script>`, `<style>` or `<head>` goes.
public enum PlainText {
    public static func from(html: String) -> String {
        var text = html
        for hidden in ["script", "style", "head"] {
            while let open = text.range(of: "<\(hidden)", options: .caseInsensitive),
                let close = text.range(of: "</\(hidden)>", options: .caseInsensitive, range: open.upperBound..<text.endIndex)
            {
                text.removeSubrange(open.lowerBound..<close.upperBound)
            }
        }
        // <a href="x">label</a> → label (x)
        var linked = ""
        var rest = Substring(text)
        while let open = rest.range(of: "<a ", options: .caseInsensitive) {
            linked += rest[..<open.lowerBound]
            guard let tagEnd = rest.range(of: ">", range: open.upperBound..<rest.endIndex),
                let close = rest.range(of: "</a>", options: .caseInsensitive, range: tagEnd.upperBound..<rest.endIndex)
            else {
                rest = rest[open.lowerBound...]
                break
            }
            let attributes = rest[open.upperBound..<tagEnd.lowerBound]
            let label = rest[tagEnd.upperBound..<close.lowerBound]
            linked += label
            if let href = Self.attribute("href", in: attributes), !href.isEmpty, href != String(label) { linked += " (\(href))" }
            rest = rest[close.upperBound...]
        }
        text = linked + rest
        for block in ["<br>", "<br/>", "<br />", "</p>", "</div>", "</h1>", "</h2>", "</h3>", "</h4>", "</li>", "</tr>", "</table>"] {
            text = text.replacingOccurrences(of: block, with: "\n", options: .caseInsensitive)
        }
        text = text.replacingOccurrences(of: "<li>", with: "- ", options: .caseInsensitive)
        // Every remaining tag goes.
        var stripped = ""
        var inTag = false
        for character in text {
            if character == "<" { inTag = true } else if character == ">" && inTag { inTag = false } else if !inTag { stripped.append(character) }
        }
        let entities = ["&nbsp;": " ", "&lt;": "<", "&gt;": ">", "&quot;": "\"", "&#39;": "'", "&#x27;": "'", "&amp;": "&"]
        for (entity, character) in entities { stripped = stripped.replacingOccurrences(of: entity, with: character) }
        // Lines trimmed, runs of blank lines kept to one.
        var lines: [String] = []
        for line in stripped.components(separatedBy: "\n") {
            let trimmed = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).joined(separator: " ")
            if trimmed.isEmpty, lines.last?.isEmpty ?? true { continue }
            lines.append(trimmed)
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines.joined(separator: "\n")
    }

    static func attribute(_ name: String, in tag: Substring) -> String? {
        guard let start = tag.range(of: "\(name)=", options: .caseInsensitive) else { return nil }
        var value = tag[start.upperBound...]
        guard let quote = value.first, quote == "\"" || quote == "'" else {
            return value.split(separator: " ").first.map(String.init)
        }
        value = value.dropFirst()
        return value.firstIndex(of: quote).map { String(value[..<$0]) }
    }
}
