import Foundation

/// What a web page says about itself in its `<head>`: the feed it offers
/// (`<link rel="alternate" type="application/rss+xml">`), or, for a site without one, the page
/// as one article (Open Graph and `article:` meta tags, `<title>`, the canonical link).
/// Out of reach: pages that build their content with script, and listing pages whose
/// articles are only in the body's markup.
enum PageMetadata {
    static let feedTypes = ["application/rss+xml", "application/atom+xml", "application/feed+json", "application/json", "application/rdf+xml"]

    static func looksLikeHTML(_ text: String, contentType: String?) -> Bool {
        if contentType?.lowercased().contains("html") == true { return true }
        let head = text.prefix(1024).lowercased()
        return head.contains("<html") || head.contains("<!doctype html")
    }

    /// Every `<tag …>` of a name in the document, as attribute dictionaries (names lower-cased).
    static func tags(_ name: String, in html: String) -> [[String: String]] {
        var found: [[String: String]] = []
        var rest = Substring(html)
        while let open = rest.range(of: "<\(name)", options: .caseInsensitive) {
            guard let close = rest.range(of: ">", range: open.upperBound..<rest.endIndex) else { break }
            let boundary = rest[open.upperBound...].first
            if boundary == " " || boundary == "\t" || boundary == "\n" || boundary == "/" || boundary == ">" {
                found.append(attributes(rest[open.upperBound..<close.lowerBound]))
            }
            rest = rest[close.upperBound...]
        }
        return found
    }

    static func attributes(_ text: Substring) -> [String: String] {
        var attributes: [String: String] = [:]
        var rest = text
        while let equals = rest.firstIndex(of: "=") {
            let name = rest[..<equals].split(whereSeparator: { $0.isWhitespace || $0 == "/" }).last.map { $0.lowercased() } ?? ""
            var value = rest[rest.index(after: equals)...].drop { $0.isWhitespace }
            let result: Substring
            if let quote = value.first, quote == "\"" || quote == "'" {
                value = value.dropFirst()
                let end = value.firstIndex(of: quote) ?? value.endIndex
                result = value[..<end]
                rest = end < value.endIndex ? value[value.index(after: end)...] : value[end...]
            } else {
                let end = value.firstIndex(where: { $0.isWhitespace }) ?? value.endIndex
                result = value[..<end]
                rest = value[end...]
            }
            if !name.isEmpty { attributes[name] = FeedText.decodeEntities(String(result)) }
        }
        return attributes
    }

    /// The first feed the page names, resolved against the page's address.
    static func feedLink(in html: String, base: URL) -> URL? {
        for link in tags("link", in: html) {
            let rel = (link["rel"] ?? "").lowercased().split(separator: " ")
            guard rel.contains("alternate"), let type = link["type"]?.lowercased(), feedTypes.contains(type) else { continue }
            if let url = FeedParser.resolve(link["href"], base) { return url }
        }
        return nil
    }

    /// The page as one article, if it has at least a title.
    static func article(in html: String, base: URL) -> FeedEntry? {
        var meta: [String: String] = [:]
        for tag in tags("meta", in: html) {
            guard let key = (tag["property"] ?? tag["name"])?.lowercased(), let content = tag["content"], meta[key] == nil else { continue }
            meta[key] = content
        }
        let canonical = tags("link", in: html).first { ($0["rel"] ?? "").lowercased() == "canonical" }?["href"]
        let url = FeedParser.resolve(canonical ?? meta["og:url"], base) ?? base
        var title = FeedText.line(meta["og:title"] ?? meta["twitter:title"])
        if title == nil, let open = html.range(of: "<title", options: .caseInsensitive),
            let start = html.range(of: ">", range: open.upperBound..<html.endIndex),
            let end = html.range(of: "</title>", options: .caseInsensitive, range: start.upperBound..<html.endIndex)
        {
            title = FeedText.line(String(html[start.upperBound..<end.lowerBound]))
        }
        guard let title else { return nil }
        return FeedEntry(
            id: url.absoluteString, url: url, title: title, summary: meta["og:description"] ?? meta["description"], content: nil,
            author: FeedText.line(meta["author"] ?? meta["article:author"]),
            publishedAt: FeedDates.parse(meta["article:published_time"] ?? meta["date"]),
            categories: [meta["article:section"]].compactMap(FeedText.line))
    }
}
