import Foundation
import Hummingbird
import NIOCore
import Synchronization
import TestSupport

/// A web server of feeds for the tests, on loopback: well-formed and broken feeds, a blog
/// that names its feed, a page without one, a server that hangs, redirects (one to a
/// private address), a document over the size cap, a feed that changes or starts failing.
final class FeedServer: Sendable {
    static let shared = StartOnce<FeedServer> { try await FeedServer.start() }

    let url: String
    /// Per path: the feed's current items (the test adds some) and whether it fails.
    private let feeds = Mutex<[String: (items: [String], failing: Bool)]>([:])

    private init(url: String) { self.url = url }

    static func start() async throws -> FeedServer {
        let holder = Mutex<FeedServer?>(nil)
        let server = try await TestServer.start { onRunning in
            let router = Router()
            router.get("feeds/:name") { request, context -> Response in
                guard let server = holder.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
                return server.feed(context.parameters.get("name") ?? "", request)
            }
            router.get("blog.html") { _, _ -> Response in
                Self.html(
                    #"<html><head><title>A blog</title><link rel="alternate" type="application/atom+xml" href="/atom.xml"></head><body>x</body></html>"#
                )
            }
            router.get("atom.xml") { _, _ -> Response in
                Self.text(
                    """
                    <feed xmlns="http://www.w3.org/2005/Atom"><title>The blog</title><link href="/blog.html"/>
                    <entry><id>tag:blog,1</id><title>Blog post</title><link href="/posts/1"/><updated>2026-12-01T10:00:00Z</updated></entry></feed>
                    """, type: "application/atom+xml")
            }
            router.get("page.html") { _, _ -> Response in
                Self.html(
                    """
                    <!doctype html><html><head><title>Fallback</title><meta property="og:title" content="A page &amp; its story">
                    <meta name="description" content="What it says"><meta property="article:published_time" content="2026-12-01T08:00:00Z">
                    <link rel="canonical" href="/stories/page"></head><body>text</body></html>
                    """)
            }
            router.get("notes.txt") { _, _ -> Response in Self.text("just some notes", type: "text/plain") }
            router.get("broken.xml") { _, _ -> Response in Self.text("<rss><channel><item><title>cut", type: "application/rss+xml") }
            router.get("hang") { _, _ -> Response in
                try await Task.sleep(for: .seconds(20))
                return Self.text("late", type: "text/plain")
            }
            router.get("to-private") { _, _ -> Response in
                Response(status: .found, headers: [.location: "http://10.20.30.40/feed.xml"])
            }
            router.get("loop") { _, _ -> Response in Response(status: .found, headers: [.location: "/loop"]) }
            router.get("moved") { _, _ -> Response in Response(status: .movedPermanently, headers: [.location: "/atom.xml"]) }
            router.get("huge.xml") { _, _ -> Response in
                let items = String(repeating: "<item><title>padding padding padding</title><link>http://x.example/</link></item>", count: 5000)
                return Self.text("<rss><channel><title>Huge</title>\(items)</channel></rss>", type: "application/rss+xml")
            }
            return Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { await onRunning($0.localAddress?.port ?? 0) }, logger: TestEnvironment.logger)
        }
        let made = FeedServer(url: server.baseURL)
        holder.withLock { $0 = made }
        return made
    }

    static func text(_ body: String, type: String, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = type
        return Response(status: .ok, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    static func html(_ body: String) -> Response { text(body, type: "text/html; charset=utf-8") }

    /// A new RSS feed at /feeds/<name> with these items (titles; links under /articles/).
    func publish(_ name: String, items: [String]) { feeds.withLock { $0[name] = (items, false) } }

    func add(_ title: String, to name: String) { feeds.withLock { $0[name]?.items.append(title) } }

    func fail(_ name: String) { feeds.withLock { $0[name]?.failing = true } }

    /// RSS with an ETag of its item count: a conditional GET of an unchanged feed is 304.
    private func feed(_ name: String, _ request: Request) -> Response {
        guard let (items, failing) = feeds.withLock({ $0[name] }) else { return Response(status: .notFound) }
        if failing { return Response(status: .internalServerError) }
        let etag = "\"\(items.count)\""
        if request.headers[.ifNoneMatch] == etag { return Response(status: .notModified, headers: [.eTag: etag]) }
        // "Title|body": an item with a description.
        let entries = items.map { item in
            let parts = item.split(separator: "|", maxSplits: 1).map(String.init)
            let title = parts[0]
            let body = parts.count > 1 ? "<description>\(parts[1])</description>" : ""
            return
                "<item><title>\(title)</title><link>/articles/\(name)/\(title.replacingOccurrences(of: " ", with: "-"))</link>\(body)<category>News</category></item>"
        }.joined()
        return Self.text(
            "<rss version=\"2.0\"><channel><title>Feed \(name)</title>\(entries)</channel></rss>", type: "application/rss+xml", headers: [.eTag: etag]
        )
    }
}
