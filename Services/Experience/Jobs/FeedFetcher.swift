import AsyncHTTPClient
import Foundation
import NIOCore
import Outbound
import ServiceKit
import Synchronization

/// Settings of feed fetching, from the environment: `FEEDS_REQUIRE_HTTPS` (false),
/// `FEEDS_ALLOW_LOOPBACK` and `FEEDS_ALLOW_PRIVATE` (false: the SSRF guard the webhooks use),
/// `FEEDS_TIMEOUT_SECONDS` (15), `FEEDS_MAX_BYTES` (5 MB, after inflating),
/// `FEEDS_HOST_GAP_MS` (1000: between two requests to one host from one replica).
struct FeedsConfiguration: Sendable {
    var policy = DestinationPolicy(requireHTTPS: false)
    var timeout: TimeAmount = .seconds(15)
    var maxBytes = 5 << 20
    var hostGap: Duration = .seconds(1)
    /// Articles each intake stage's job takes at once.
    var intakeBatch = 200

    static func fromEnvironment(_ env: Environment = Environment()) throws -> Self {
        Self(
            policy: DestinationPolicy(
                requireHTTPS: try env.bool("FEEDS_REQUIRE_HTTPS", default: false),
                allowLoopback: try env.bool("FEEDS_ALLOW_LOOPBACK", default: false),
                allowPrivate: try env.bool("FEEDS_ALLOW_PRIVATE", default: false)),
            timeout: .seconds(Int64(try env.int("FEEDS_TIMEOUT_SECONDS", default: 15, range: 1...300))),
            maxBytes: try env.int("FEEDS_MAX_BYTES", default: 5 << 20, range: 1024...(100 << 20)),
            hostGap: .milliseconds(try env.int("FEEDS_HOST_GAP_MS", default: 1000, range: 0...60000)),
            intakeBatch: try env.int("FEEDS_INTAKE_BATCH", default: 200, range: 1...5000))
    }
}

/// Why a fetch failed: `reason` is the metric label and what the source shows.
enum FetchFailure: Error, Equatable, CustomStringConvertible {
    case refused(String)
    case timeout
    case tooLarge(Int)
    case status(Int)
    case tooManyRedirects
    case notAFeed(String)
    case network(String)

    var reason: String {
        switch self {
        case .refused: "refused"
        case .timeout: "timeout"
        case .tooLarge: "too_large"
        case .status: "http_status"
        case .tooManyRedirects: "redirects"
        case .notAFeed: "not_a_feed"
        case .network: "network"
        }
    }

    var description: String {
        switch self {
        case .refused(let why): "the address may not be fetched: \(why)"
        case .timeout: "the server did not answer in time"
        case .tooLarge(let limit): "the document is larger than \(limit) bytes"
        case .status(let code): "the server answered HTTP \(code)"
        case .tooManyRedirects: "more than \(FeedFetcher.maxRedirects) redirects"
        case .notAFeed(let why): why
        case .network(let why): "the server could not be reached: \(why)"
        }
    }
}

/// Fetches feeds as a polite client: conditional GET, gzip, a size cap, a deadline, redirects
/// followed by hand (each hop through the SSRF guard), and a gap between two requests to one host.
final class FeedFetcher: Sendable {
    static let maxRedirects = 5
    static let userAgent = "PlatformFeeds/1.0 (feed reader; +https://platform.local/feeds)"
    static let accept = "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/html;q=0.8, */*;q=0.5"

    let configuration: FeedsConfiguration
    private let outbound: PinnedOutbound
    private let lastRequest = Mutex<[String: ContinuousClock.Instant]>([:])

    init(_ configuration: FeedsConfiguration) {
        self.configuration = configuration
        outbound = PinnedOutbound(policy: configuration.policy, connectionsPerHost: 2, decompressionLimit: configuration.maxBytes)
    }

    struct Document: Sendable {
        var url: URL
        var body: Data
        var contentType: String?
        var etag: String?
        var lastModified: String?
        /// Where the last permanent redirect led (the source should move there).
        var movedTo: URL?
    }

    enum Answer: Sendable {
        case document(Document)
        case notModified
    }

    /// GETs `url` (conditionally, with the validators of the last fetch).
    func get(_ url: String, etag: String? = nil, lastModified: String? = nil) async throws(FetchFailure) -> Answer {
        var current = url
        var movedTo: URL?
        for _ in 0...Self.maxRedirects {
            var request = HTTPClientRequest(url: current)
            request.headers.add(name: "User-Agent", value: Self.userAgent)
            request.headers.add(name: "Accept", value: Self.accept)
            request.headers.add(name: "Accept-Encoding", value: "gzip, deflate")
            if let etag { request.headers.add(name: "If-None-Match", value: etag) }
            if let lastModified { request.headers.add(name: "If-Modified-Since", value: lastModified) }
            guard let parsed = URL(string: current), let host = parsed.host else { throw .refused("not an absolute http(s) URL") }
            await politely(host)
            let response: HTTPClientResponse
            do {
                response = try await outbound.execute(request, timeout: configuration.timeout)
            } catch let refusal as DestinationPolicy.Refusal {
                throw .refused(refusal.description)
            } catch {
                throw Self.failure(error)
            }
            switch response.status.code {
            case 304:
                return .notModified
            case 301, 302, 303, 307, 308:
                guard let location = response.headers.first(name: "Location"), let next = URL(string: location, relativeTo: parsed)?.absoluteURL
                else { throw .status(Int(response.status.code)) }
                if response.status.code == 301 || response.status.code == 308 { movedTo = next }
                current = next.absoluteString
                continue
            case 200..<300:
                let body: ByteBuffer
                do {
                    body = try await response.body.collect(upTo: configuration.maxBytes)
                } catch is NIOTooManyBytesError {
                    throw .tooLarge(configuration.maxBytes)
                } catch {
                    throw Self.failure(error)
                }
                return .document(
                    Document(
                        url: parsed, body: Data(buffer: body), contentType: response.headers.first(name: "Content-Type"),
                        etag: response.headers.first(name: "ETag"), lastModified: response.headers.first(name: "Last-Modified"), movedTo: movedTo))
            default:
                throw .status(Int(response.status.code))
            }
        }
        throw .tooManyRedirects
    }

    static func failure(_ error: any Error) -> FetchFailure {
        if let client = error as? HTTPClientError {
            if client == .deadlineExceeded || client == .readTimeout || client == .connectTimeout { return .timeout }
        }
        if error is NIOTooManyBytesError { return .tooLarge(0) }
        return .network(String(describing: error).prefix(200).description)
    }

    /// Waits until this replica's last request to `host` is `hostGap` ago.
    private func politely(_ host: String) async {
        let gap = configuration.hostGap
        guard gap > .zero else { return }
        let now = ContinuousClock.now
        let slot = lastRequest.withLock { last -> ContinuousClock.Instant in
            let slot = max(now, (last[host] ?? now - gap) + gap)
            last[host] = slot
            if last.count > 10_000 { last = last.filter { now - $0.value < .seconds(60) } }
            return slot
        }
        if slot > now { try? await Task.sleep(until: slot) }
    }

    /// What a new source's URL holds: a feed; a page that names its feed (`<link
    /// rel="alternate">`), then that feed; or a page without one, read as one article by its
    /// own metadata. Anything else says why it is not a source.
    func discover(_ url: String) async throws(FetchFailure) -> (document: Document, feed: ParsedFeed) {
        guard case .document(let document) = try await get(url) else { throw .status(304) }
        if let feed = try? Self.feed(document) { return (document, feed) }
        let html = String(decoding: document.body.prefix(512 * 1024), as: UTF8.self)
        guard PageMetadata.looksLikeHTML(html, contentType: document.contentType) else {
            throw .notAFeed("neither a feed (RSS, Atom, JSON Feed) nor a web page")
        }
        if let alternate = PageMetadata.feedLink(in: html, base: document.url) {
            guard case .document(let feedDocument) = try await get(alternate.absoluteString) else { throw .status(304) }
            do {
                return (feedDocument, try Self.feed(feedDocument))
            } catch {
                throw .notAFeed("the page names a feed at \(alternate.absoluteString), but it is \(error.description)")
            }
        }
        guard let page = Self.page(document) else { throw .notAFeed("a web page without a feed and without a title to read it by") }
        return (document, page)
    }

    /// The document as a feed.
    static func feed(_ document: Document) throws(FetchFailure) -> ParsedFeed {
        do {
            return try FeedParser.parse(document.body, contentType: document.contentType, url: document.url)
        } catch {
            throw .notAFeed(error.description)
        }
    }

    /// A page without a feed, as the one article its metadata describes; nil without a title.
    static func page(_ document: Document) -> ParsedFeed? {
        let html = String(decoding: document.body.prefix(512 * 1024), as: UTF8.self)
        return PageMetadata.article(in: html, base: document.url).map { ParsedFeed(format: .page, title: $0.title, link: $0.url, entries: [$0]) }
    }
}
