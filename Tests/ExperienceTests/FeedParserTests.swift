import Foundation
import Testing

@testable import Experience

@Suite("feed parsing")
struct FeedParserTests {
    let base = URL(string: "https://news.example/feeds/main.xml")!

    func parse(_ text: String, contentType: String? = nil) throws -> ParsedFeed {
        try FeedParser.parse(Data(text.utf8), contentType: contentType, url: base)
    }

    @Test("RSS 2.0: items with guid, link, markup in titles, RFC 822 dates, categories, content:encoded")
    func rss2() throws {
        let feed = try parse(
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
            <channel><title>Example &amp; Co</title><link>https://news.example/</link>
            <item><title><![CDATA[Rates <b>rise</b> &#8217;again&#8217;]]></title><link>/2026/rates</link><guid isPermaLink="false">r-1</guid>
              <description>&lt;p&gt;Short&lt;/p&gt;</description><content:encoded><![CDATA[<p>Long text</p>]]></content:encoded>
              <pubDate>Mon, 07 Dec 2026 10:00:00 +0100</pubDate><dc:creator>Ann Writer</dc:creator><category>Economy</category></item>
            <item><title>Second</title><link>https://news.example/second</link><pubDate>7 Dec 26 08:30 GMT</pubDate></item>
            <item><title>Repeat of the first</title><guid>r-1</guid></item>
            </channel></rss>
            """)
        #expect(feed.format == .rss)
        #expect(feed.title == "Example & Co")
        #expect(feed.entries.count == 2)
        let first = try #require(feed.entries.first)
        #expect(first.id == "r-1")
        #expect(first.title == "Rates rise ’again’")
        #expect(first.url?.absoluteString == "https://news.example/2026/rates")
        #expect(first.content == "<p>Long text</p>")
        #expect(first.summary == "<p>Short</p>")
        #expect(first.author == "Ann Writer")
        #expect(first.categories == ["Economy"])
        #expect(first.publishedAt == ISO8601DateFormatter().date(from: "2026-12-07T09:00:00Z"))
        #expect(feed.entries[1].id == "https://news.example/second")
        #expect(feed.entries[1].publishedAt == ISO8601DateFormatter().date(from: "2026-12-07T08:30:00Z"))
    }

    @Test("Atom 1.0: alternate links, ids, html titles, published or updated, author names, category terms")
    func atom() throws {
        let feed = try parse(
            """
            <feed xmlns="http://www.w3.org/2005/Atom"><title type="html">Blog &lt;i&gt;of&lt;/i&gt; Notes</title>
            <link rel="self" href="/feed.atom"/><link href="https://blog.example/"/>
            <entry><id>tag:blog.example,2026:1</id><title>One</title><link rel="edit" href="/edit/1"/><link rel="alternate" href="posts/one"/>
              <updated>2026-12-06T10:00:00Z</updated><published>2026-12-05T10:00:00.250+02:00</published>
              <author><name>Bo</name><email>bo@blog.example</email></author><category term="swift"/><summary>S</summary>
              <content type="html">&lt;p&gt;Body&lt;/p&gt;</content></entry>
            <entry><id>tag:blog.example,2026:2</id><title>Two</title><updated>2026-12-06T11:00:00Z</updated></entry>
            </feed>
            """)
        #expect(feed.format == .atom)
        #expect(feed.title == "Blog of Notes")
        #expect(feed.link?.absoluteString == "https://blog.example/")
        let one = try #require(feed.entries.first)
        #expect(one.url?.absoluteString == "https://news.example/feeds/posts/one")
        #expect(one.author == "Bo")
        #expect(one.categories == ["swift"])
        #expect(one.content == "<p>Body</p>")
        #expect(one.publishedAt == ISO8601DateFormatter().date(from: "2026-12-05T08:00:00Z")?.addingTimeInterval(0.25))
        #expect(feed.entries[1].publishedAt == ISO8601DateFormatter().date(from: "2026-12-06T11:00:00Z"))
        #expect(feed.entries[1].url == nil)
    }

    @Test("RSS 1.0 (RDF) and RSS 0.91")
    func rdfAndOld() throws {
        let rdf = try parse(
            """
            <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
            <channel><title>RDF site</title><link>https://rdf.example/</link></channel>
            <item rdf:about="https://rdf.example/a"><title>A</title><link>https://rdf.example/a</link><dc:date>2026-12-01T09:00:00+00:00</dc:date></item>
            </rdf:RDF>
            """)
        #expect(rdf.format == .rdf)
        #expect(rdf.title == "RDF site")
        #expect(rdf.entries.map(\.title) == ["A"])
        #expect(rdf.entries.first?.publishedAt == ISO8601DateFormatter().date(from: "2026-12-01T09:00:00Z"))
        let old = try parse(
            "<rss version=\"0.91\"><channel><title>Old</title><item><title>x</title><link>https://o.example/x</link></item></channel></rss>")
        #expect(old.entries.first?.url?.absoluteString == "https://o.example/x")
        #expect(old.entries.first?.publishedAt == nil)
    }

    @Test("JSON Feed 1.1: ids as strings or numbers, relative urls, tags, authors")
    func jsonFeed() throws {
        let feed = try parse(
            """
            {"version": "https://jsonfeed.org/version/1.1", "title": "JF", "home_page_url": "https://jf.example/",
             "items": [{"id": 7, "url": "/p/7", "title": "Seven <em>!</em>", "content_html": "<p>x</p>", "date_published": "2026-12-02T10:00:00Z",
                        "authors": [{"name": "Cy"}], "tags": ["a", "b"]},
                       {"id": "7", "title": "dup"}, {"id": "8", "content_text": "only text", "summary": "A summary that is the title"}]}
            """)
        #expect(feed.format == .jsonFeed)
        #expect(feed.entries.count == 2)
        #expect(feed.entries[0].title == "Seven !")
        #expect(feed.entries[0].url?.absoluteString == "https://news.example/p/7")
        #expect(feed.entries[0].author == "Cy")
        #expect(feed.entries[0].categories == ["a", "b"])
        #expect(feed.entries[1].title == "A summary that is the title")
    }

    @Test("a declared encoding the bytes are not in, and Latin-1 without a declaration, still parse")
    func encodings() throws {
        var latin1 = Data("<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss><channel><title>Caf".utf8)
        latin1.append(0xE9)  // é in Latin-1, invalid as UTF-8
        latin1.append(contentsOf: Data("</title><item><title>Na".utf8))
        latin1.append(0xEF)  // ï
        latin1.append(contentsOf: Data("ve</title><link>https://x.example/1</link></item></channel></rss>".utf8))
        let feed = try FeedParser.parse(latin1, contentType: "application/rss+xml; charset=ISO-8859-1", url: base)
        #expect(feed.title == "Café")
        #expect(feed.entries.first?.title == "Naïve")
        let undeclared = try FeedParser.parse(latin1, contentType: nil, url: base)
        #expect(undeclared.title == "Café")
    }

    @Test("what is not a feed says why; a huge feed keeps its first 500 entries")
    func refusals() throws {
        #expect(throws: FeedError.self) { try parse("<html><body>Hello</body></html>") }
        #expect(throws: FeedError.self) { try parse("{\"hello\": 1}") }
        #expect(throws: FeedError.self) { try parse("just text") }
        #expect(throws: FeedError.self) { try parse("<rss><channel><item><title>unclosed") }
        let items = (0..<800).map { "<item><title>t\($0)</title><link>https://h.example/\($0)</link></item>" }.joined()
        #expect(try parse("<rss><channel>\(items)</channel></rss>").entries.count == 500)
    }

    @Test("dates in the forms feeds use; nonsense is nil")
    func dates() {
        let expected = ISO8601DateFormatter().date(from: "2026-12-07T15:00:00Z")
        #expect(FeedDates.parse("Mon, 07 Dec 2026 10:00:00 EST") == expected)
        #expect(FeedDates.parse("07 Dec 2026 15:00:00 +0000") == expected)
        #expect(FeedDates.parse("Monday, 7 December 2026 16:00:00 +0100") == expected)
        #expect(FeedDates.parse("2026-12-07T15:00:00Z") == expected)
        #expect(FeedDates.parse("2026-12-07T16:00:00+01:00") == expected)
        #expect(FeedDates.parse("2026-12-07 15:00:00") == expected)
        #expect(FeedDates.parse("yesterday") == nil)
        #expect(FeedDates.parse("32 Dec 2026 10:00") == nil)
        #expect(FeedDates.parse("") == nil)
    }

    @Test("the sample feeds `make run` serves all parse, each with its articles")
    func samples() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../infra/dev/feeds").standardized
        let base = URL(string: "http://127.0.0.1:9500/")!
        let expected: [String: (ParsedFeed.Format, Int)] = ["world.xml": (.rss, 3), "tech.atom": (.atom, 2), "kitchen.json": (.jsonFeed, 2)]
        for (name, (format, count)) in expected {
            let feed = try FeedParser.parse(try Data(contentsOf: folder.appendingPathComponent(name)), url: base.appendingPathComponent(name))
            #expect(feed.format == format, "\(name)")
            #expect(feed.entries.count == count, "\(name)")
            #expect(feed.entries.allSatisfy { $0.publishedAt != nil && $0.url?.host == "127.0.0.1" }, "\(name)")
        }
        let blog = String(decoding: try Data(contentsOf: folder.appendingPathComponent("blog.html")), as: UTF8.self)
        #expect(PageMetadata.feedLink(in: blog, base: base)?.absoluteString == "http://127.0.0.1:9500/tech.atom")
    }

    @Test("one address per article: tracking parameters, fragments, default ports and case go; other parameters are sorted")
    func canonicalURLs() throws {
        func canonical(_ raw: String) throws -> String { CanonicalURL.of(try #require(URL(string: raw))).absoluteString }
        #expect(try canonical("HTTPS://News.Example:443/a/b/?utm_source=x&id=7&fbclid=abc&b=2#top") == "https://news.example/a/b?b=2&id=7")
        #expect(try canonical("http://news.example:80") == "http://news.example/")
        #expect(try canonical("http://news.example:8080/x?UTM_Medium=m") == "http://news.example:8080/x")
        #expect(try canonical("https://news.example/story?id=7&b=2") == (try canonical("https://news.example/story/?b=2&id=7&gclid=1")))
        let a = FeedEntry(id: "1", url: URL(string: "https://n.example/s?utm_campaign=rss"), title: "t", categories: [])
        let b = FeedEntry(id: "2", url: URL(string: "https://N.example/s#comments"), title: "t", categories: [])
        #expect(FeedItems.key(a) == FeedItems.key(b))
    }

    @Test("an article's language from its function words; short or mixed text is undetermined")
    func languages() {
        #expect(Language.detect("The council voted on Tuesday to close the bridge, and the engineers said that it was unsafe for cars") == "en")
        #expect(
            Language.detect("Der Stadtrat hat am Dienstag beschlossen, die Brücke zu schließen, weil sie nicht mehr sicher ist und auch der Verkehr")
                == "de")
        #expect(
            Language.detect("Le conseil a voté mardi la fermeture du pont, car les ingénieurs disent que la structure est fragile pour les voitures")
                == "fr")
        #expect(
            Language.detect(
                "El consejo votó el martes para cerrar el puente, porque los ingenieros dicen que la estructura es frágil para los coches") == "es")
        #expect(Language.detect("Bridge closed") == "und")
        #expect(Language.detect("12 34 56 78 90 11 22 33 44 55") == "und")
    }
}
