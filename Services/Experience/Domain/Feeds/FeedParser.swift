import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// One article as a feed lists it.
struct FeedEntry: Codable, Sendable, Equatable {
    /// The feed's own id (RSS guid, Atom id, JSON Feed id), else the link.
    var id: String
    var url: URL?
    var title: String
    /// HTML or text as the feed gives it: summary, then full content when there is one.
    var summary: String?
    var content: String?
    var author: String?
    var publishedAt: Date?
    var categories: [String]
}

struct ParsedFeed: Sendable, Equatable {
    enum Format: String, Sendable {
        case rss, rdf, atom
        case jsonFeed = "json_feed"
        case page
    }

    var format: Format
    var title: String?
    /// The site the feed belongs to.
    var link: URL?
    var entries: [FeedEntry]
}

enum FeedError: Error, Equatable, CustomStringConvertible {
    /// Neither RSS, Atom nor JSON Feed.
    case notAFeed(String)

    var description: String {
        switch self {
        case .notAFeed(let why): "not an RSS, Atom or JSON feed: \(why)"
        }
    }
}

/// Reads RSS 0.9x/1.0/2.0, Atom 1.0 and JSON Feed 1.x as the world writes them: a wrong or
/// missing encoding, markup in titles, relative links (against the feed's address), dates in
/// many forms or none, repeated ids (the first wins). At most `maxEntries` are kept.
enum FeedParser {
    static let maxEntries = 500

    static func parse(_ data: Data, contentType: String? = nil, url base: URL) throws(FeedError) -> ParsedFeed {
        let head = data.prefix(512).drop { $0 == 0xEF || $0 == 0xBB || $0 == 0xBF || $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        if head.first == UInt8(ascii: "{") || contentType?.lowercased().contains("json") == true {
            return try jsonFeed(data, base: base)
        }
        // libxml2 reads bytes that are not the UTF-8 they claim to be (or are assumed to be,
        // undeclared) as U+FFFD; they are transcoded first.
        var bytes = data
        if declaresUTF8(data), String(data: data, encoding: .utf8) == nil, let transcoded = transcode(data, contentType: contentType) {
            bytes = transcoded
        }
        let parsed = xml(bytes, base: base)
        guard let parsed else { throw .notAFeed("the document is neither well-formed XML nor JSON") }
        return parsed
    }

    /// Whether the XML declaration names UTF-8 or no encoding (which means UTF-8).
    static func declaresUTF8(_ data: Data) -> Bool {
        let head = String(decoding: data.prefix(200), as: UTF8.self).lowercased()
        guard head.hasPrefix("<?xml"), let end = head.range(of: "?>") else { return true }
        let declaration = head[..<end.lowerBound]
        guard let encoding = declaration.range(of: "encoding=") else { return true }
        let name = declaration[encoding.upperBound...].dropFirst().prefix { $0 != "\"" && $0 != "'" }
        return name == "utf-8" || name == "utf8"
    }

    /// Bytes that are not the UTF-8 they claim to be, as UTF-8:
    /// the HTTP charset when it is one Foundation knows, else Windows-1252 (which every byte
    /// decodes in); the XML declaration's encoding is dropped with it.
    static func transcode(_ data: Data, contentType: String?) -> Data? {
        let charset = contentType?.lowercased().components(separatedBy: "charset=").dropFirst().first?
            .trimmingCharacters(in: CharacterSet(charactersIn: "\"'; "))
        let encodings: [String.Encoding] =
            switch charset {
            case "utf-8", "utf8": [.utf8, .windowsCP1252]
            case "iso-8859-1", "latin1", "latin-1": [.isoLatin1]
            case "utf-16": [.utf16]
            default: [.utf8, .windowsCP1252]
            }
        for encoding in encodings {
            guard var text = String(data: data, encoding: encoding) else { continue }
            if text.hasPrefix("<?xml"), let end = text.range(of: "?>") {
                text.replaceSubrange(text.startIndex..<end.upperBound, with: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
            }
            return Data(text.utf8)
        }
        return nil
    }

    static func xml(_ data: Data, base: URL) -> ParsedFeed? {
        let reader = XMLFeedReader(base: base)
        let parser = XMLParser(data: data)
        parser.delegate = reader
        parser.shouldProcessNamespaces = false
        let complete = parser.parse() && parser.parserError == nil
        guard complete || reader.entries.count > 0, let format = reader.format else { return nil }
        return ParsedFeed(format: format, title: FeedText.line(reader.feedTitle), link: reader.feedLink, entries: reader.entries)
    }

    static func jsonFeed(_ data: Data, base: URL) throws(FeedError) -> ParsedFeed {
        struct Document: Decodable {
            struct Author: Decodable { var name: String? }
            struct Item: Decodable {
                var id: FlexibleID?
                var url: String?
                var external_url: String?
                var title: String?
                var content_html: String?
                var content_text: String?
                var summary: String?
                var date_published: String?
                var date_modified: String?
                var authors: [Author]?
                var author: Author?
                var tags: [String]?
            }
            var version: String?
            var title: String?
            var home_page_url: String?
            var items: [Item]?
        }
        guard let document = try? JSONDecoder().decode(Document.self, from: data), let version = document.version,
            version.hasPrefix("https://jsonfeed.org/version/"), let items = document.items
        else { throw .notAFeed("JSON without a JSON Feed version and items") }
        var seen: Set<String> = []
        var entries: [FeedEntry] = []
        for item in items {
            let url = resolve(item.url ?? item.external_url, base)
            guard let id = item.id?.text ?? url?.absoluteString, seen.insert(id).inserted else { continue }
            let title = FeedText.line(item.title) ?? FeedText.line(item.summary).map { String($0.prefix(120)) } ?? url?.absoluteString ?? id
            entries.append(
                FeedEntry(
                    id: id, url: url, title: title, summary: item.summary, content: item.content_html ?? item.content_text,
                    author: FeedText.line(item.authors?.first?.name ?? item.author?.name),
                    publishedAt: FeedDates.parse(item.date_published ?? item.date_modified), categories: (item.tags ?? []).compactMap(FeedText.line)))
            if entries.count == maxEntries { break }
        }
        return ParsedFeed(format: .jsonFeed, title: FeedText.line(document.title), link: resolve(document.home_page_url, base), entries: entries)
    }

    /// An id JSON Feed allows as a string or (against the spec, often) a number.
    struct FlexibleID: Decodable {
        var text: String
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let string = try? container.decode(String.self) {
                text = string
            } else {
                text = String(try container.decode(Int.self))
            }
        }
    }

    /// An absolute http(s) URL from what a feed wrote, relative ones against `base`.
    static func resolve(_ raw: String?, _ base: URL) -> URL? {
        guard let raw = raw?.trimmingCharacters(in: .whitespacesAndNewlines), !raw.isEmpty,
            let url = URL(string: raw, relativeTo: base)?.absoluteURL, let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", url.host != nil
        else { return nil }
        return url
    }
}

/// The XML side: RSS 2.0/0.9x (`rss/channel/item`), RSS 1.0 (`rdf:RDF/item`), Atom
/// (`feed/entry`). Element names are matched without their namespace prefix where feeds
/// disagree on it (`dc:creator`, `content:encoded`).
private final class XMLFeedReader: NSObject, XMLParserDelegate {
    let base: URL
    var format: ParsedFeed.Format?
    var feedTitle: String?
    var feedLink: URL?
    var entries: [FeedEntry] = []
    private var seen: Set<String> = []
    private var path: [String] = []
    private var text = ""
    private var entry: Draft?

    struct Draft {
        var id: String?
        var link: String?
        var title: String?
        var summary: String?
        var content: String?
        var author: String?
        var published: String?
        var updated: String?
        var categories: [String] = []
    }

    init(base: URL) { self.base = base }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:])
    {
        let element = name.lowercased()
        if path.isEmpty {
            switch element {
            case "rss": format = .rss
            case "rdf:rdf": format = .rdf
            case "feed": format = .atom
            default: parser.abortParsing()
            }
        }
        path.append(element)
        text = ""
        if element == "item" || element == "entry" {
            entry = Draft()
        } else if element == "link", format == .atom {
            // Atom: <link href="…" rel="alternate"/>; the alternate (or rel-less) one is the article.
            let rel = attributes["rel"] ?? "alternate"
            if rel == "alternate", let href = attributes["href"] {
                if entry != nil {
                    if entry?.link == nil { entry?.link = href }
                } else if feedLink == nil {
                    feedLink = FeedParser.resolve(href, base)
                }
            }
        } else if element == "category", entry != nil, let term = attributes["term"] {
            entry?.categories.append(term)
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    func parser(_ parser: XMLParser, foundCDATA block: Data) { text += String(decoding: block, as: UTF8.self) }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        let element = name.lowercased()
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let parent = path.dropLast().last ?? ""
        if element == "item" || element == "entry" {
            finish()
        } else if var draft = entry {
            let inEntry = parent == "item" || parent == "entry"
            switch element {
            case "title" where inEntry: draft.title = value
            case "link" where format != .atom && !value.isEmpty: draft.link = value
            case "guid": draft.id = value
            case "id" where inEntry: draft.id = value
            case "description" where inEntry: draft.summary = value
            case "summary" where inEntry: draft.summary = value
            case "content:encoded", "content": if !value.isEmpty { draft.content = value }
            case "pubdate", "published", "dc:date", "issued": if draft.published == nil { draft.published = value }
            case "updated", "modified", "dc:modified": draft.updated = value
            case "author", "dc:creator": if !value.isEmpty, draft.author == nil { draft.author = value }
            case "name" where parent == "author": if !value.isEmpty, draft.author == nil { draft.author = value }
            case "category", "dc:subject": if !value.isEmpty { draft.categories.append(value) }
            default: break
            }
            entry = draft
        } else if element == "title", parent == "channel" || parent == "feed", feedTitle == nil {
            feedTitle = value
        } else if element == "link", parent == "channel", feedLink == nil {
            feedLink = FeedParser.resolve(value, base)
        }
        path.removeLast()
        text = ""
    }

    private func finish() {
        guard let draft = entry else { return }
        entry = nil
        guard entries.count < FeedParser.maxEntries else { return }
        let url = FeedParser.resolve(draft.link, base) ?? draft.id.flatMap { FeedParser.resolve($0, base) }
        guard let id = (draft.id?.isEmpty == false ? draft.id : nil) ?? url?.absoluteString, seen.insert(id).inserted else { return }
        let title = FeedText.line(draft.title) ?? FeedText.line(draft.summary).map { String($0.prefix(120)) } ?? url?.absoluteString ?? id
        entries.append(
            FeedEntry(
                id: id, url: url, title: title, summary: draft.summary?.isEmpty == false ? draft.summary : nil, content: draft.content,
                author: FeedText.line(draft.author), publishedAt: FeedDates.parse(draft.published ?? draft.updated),
                categories: draft.categories.compactMap(FeedText.line)))
    }
}
