import NIOCore
import NIOHTTP1
import Testing

@testable import Gateway

/// The byte-level HTTP/1.1 reading the proxy forwards by: what it accepts, what it
/// refuses (everything two servers could frame differently), and where bodies end.
@Suite("HTTP/1.1 wire reading")
struct WireTests {
    private func request(_ text: String) throws(HeadError) -> RequestHead? {
        try HeadParser.request(ByteBuffer(string: text))?.0
    }

    private func refusal(_ text: String) -> HeadError? {
        do {
            _ = try HeadParser.request(ByteBuffer(string: text))
            return nil
        } catch {
            return error
        }
    }

    @Test("a request head is taken apart without copying its fields")
    func parsesRequest() throws {
        let head = try #require(try request("\r\nGET /v1/tasks?q=a HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer abc.def\r\nX-Empty:\r\n\r\nrest"))
        #expect(head.method == .GET)
        #expect(head.uri == "/v1/tasks?q=a")
        #expect(head.path == "/v1/tasks")
        #expect(head.message.bearer == "abc.def")
        #expect(head.message.first(FieldName("x-empty")) == "")
        #expect(head.message.framing == .none)
        #expect(head.message.keepAlive)
        let (_, consumed) = try #require(try HeadParser.request(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: x\r\n\r\nrest")))
        #expect(consumed == 27)
    }

    @Test("a connection's remembered token is recognised byte for byte, scheme without case")
    func rememberedBearer() throws {
        let head = try #require(try request("GET / HTTP/1.1\r\nAuthorization: bEaReR abc.def\r\n\r\n"))
        #expect(head.message.hasBearer("abc.def"))
        #expect(!head.message.hasBearer("abc.deg"))
        #expect(!head.message.hasBearer("abc.de"))
        let basic = try #require(try request("GET / HTTP/1.1\r\nAuthorization: Basic1 abc.def\r\n\r\n"))
        #expect(!basic.message.hasBearer("abc.def"))
    }

    @Test("numbers are written in decimal without a string", arguments: [0, 7, 10, 1_234_567, -42, Int.max])
    func decimal(_ value: Int) {
        var out = ByteBuffer()
        out.writeDecimal(value)
        #expect(String(buffer: out) == String(value))
    }

    @Test("a head that has not fully arrived is waited for; one over the size limit is refused")
    func incompleteAndTooLarge() throws {
        #expect(try request("GET / HTTP/1.1\r\nHost: x\r\n") == nil)
        let huge = "GET / HTTP/1.1\r\nX-Big: " + String(repeating: "a", count: HeadParser.maxHeadBytes)
        #expect(refusal(huge) == .tooLarge)
    }

    @Test("framing: a length, chunked, none; HTTP/1.0 and Connection: close end the connection")
    func framing() throws {
        #expect(try request("POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n")?.message.framing == .length(12))
        #expect(try request("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n")?.message.framing == .length(3))
        #expect(try request("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n")?.message.framing == .chunked)
        #expect(try request("GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n")?.message.keepAlive == false)
        #expect(try request("GET / HTTP/1.0\r\n\r\n")?.message.keepAlive == false)
        #expect(try request("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")?.message.keepAlive == true)
    }

    @Test(
        "requests two servers could read differently are refused",
        arguments: [
            "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n",
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
            "GET / HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n",
            "GET / HTTP/1.1\r\nContent-Length : 5\r\n\r\n",
            "GET / HTTP/1.1\r\nX-A: 1\nX-B: 2\r\n\r\n",
            "GET / HTTP/1.1\r\nX-A: a\u{0}b\r\n\r\n",
            "GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n",
            "G(T / HTTP/1.1\r\n\r\n",
            "GET  / HTTP/1.1\r\n\r\n",
            "GET / HTTP/2.0\r\n\r\n",
            "GET /a b HTTP/1.1\r\n\r\n",
            // Desync through Connection: the field it names would be dropped on the way up.
            "POST / HTTP/1.1\r\nConnection: content-length\r\nContent-Length: 5\r\n\r\n",
            "POST / HTTP/1.1\r\nConnection: close, content-length\r\nContent-Length: 5\r\n\r\n",
            "POST / HTTP/1.1\r\nConnection: CONTENT-LENGTH\r\nContent-Length: 5\r\n\r\n",
            "POST / HTTP/1.1\r\nConnection:  keep-alive ,\tContent-Length \r\nContent-Length: 5\r\n\r\n",
            "POST / HTTP/1.1\r\nConnection: keep-alive\r\nConnection: content-length\r\nContent-Length: 5\r\n\r\n",
            "POST / HTTP/1.1\r\nConnection: Transfer-Encoding\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nConnection: transfer-encoding,close\r\nTransfer-Encoding: chunked\r\n\r\n",
            "GET / HTTP/1.1\r\nConnection: host\r\nHost: a\r\n\r\n",
            "GET / HTTP/1.1\r\nConnection: Authorization\r\nAuthorization: Bearer x\r\n\r\n",
            "GET / HTTP/1.1\r\nConnection: traceparent\r\n\r\n",
        ])
    func refusesAmbiguous(_ text: String) {
        guard case .malformed = refusal(text) else {
            Issue.record("accepted: \(text.debugDescription)")
            return
        }
    }

    @Test("transfer codings other than chunked are not implemented (501)")
    func unsupportedCoding() {
        #expect(
            refusal("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n") == .unsupported("Only the chunked transfer coding is accepted."))
        #expect(
            refusal("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n")
                == .unsupported("Only the chunked transfer coding is accepted."))
    }

    @Test("answers: HEAD, 204 and 304 have no body; no length means until the connection ends")
    func responseFraming() throws {
        func framing(_ text: String, toHEAD: Bool = false) throws -> MessageHead.Framing? {
            try HeadParser.response(ByteBuffer(string: text), toHEAD: toHEAD)?.0.message.framing
        }
        #expect(try framing("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n") == .length(10))
        #expect(try framing("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", toHEAD: true) == MessageHead.Framing.none)
        #expect(try framing("HTTP/1.1 204 No Content\r\n\r\n") == MessageHead.Framing.none)
        #expect(try framing("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n") == MessageHead.Framing.none)
        #expect(try framing("HTTP/1.1 200\r\nTransfer-Encoding: chunked\r\n\r\n") == .chunked)
        #expect(try framing("HTTP/1.1 200 OK\r\n\r\n") == .untilClose)
        let closing = try #require(try HeadParser.response(ByteBuffer(string: "HTTP/1.1 200 OK\r\n\r\n"), toHEAD: false)?.0)
        #expect(!closing.message.keepAlive)
        #expect(closing.status == 200)
        #expect(throws: HeadError.self) { try HeadParser.response(ByteBuffer(string: "HTTP/1.1 2x0 OK\r\n\r\n"), toHEAD: false) }
    }

    @Test("a chunked body ends after its last chunk and trailers, not before, not after")
    func chunkedBody() throws {
        let body = "5;name=value\r\nhello\r\n10\r\n0123456789abcdef\r\n0\r\nX-Trailer: yes\r\n\r\n"
        let next = "GET / HTTP/1.1\r\n\r\n"
        var framer = BodyFramer(.chunked)
        let bytes = Array((body + next).utf8)
        // Fed a byte at a time, as a slow client would send it.
        var used = 0
        for byte in bytes where !framer.isDone {
            used += try [byte].withUnsafeBytes { try framer.consume($0) }
        }
        #expect(framer.isDone)
        #expect(used == body.utf8.count)

        var whole = BodyFramer(.chunked)
        #expect(try bytes.withUnsafeBytes { try whole.consume($0) } == body.utf8.count)
    }

    @Test(
        "chunks longer than their size, or with bad size lines, are refused",
        arguments: ["5\r\nhello!\r\n0\r\n\r\n", "x\r\n", "5\nhello\r\n", "-1\r\n"])
    func badChunks(_ body: String) {
        var framer = BodyFramer(.chunked)
        #expect(throws: HeadError.self) { _ = try Array(body.utf8).withUnsafeBytes { try framer.consume($0) } }
    }

    @Test("a request sent a byte at a time is read as one head, its body and its end")
    func byteByByte() {
        let reader = MessageReader<RequestHead>()
        var parts: [String] = []
        let text = "POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /next HTTP/1.1\r\n\r\n"
        for byte in text.utf8 {
            reader.read(ByteBuffer(bytes: [byte])) { part in
                switch part {
                case .head(let head): parts.append("head \(head.uri)")
                case .body(let bytes): parts.append("body \(String(buffer: bytes))")
                case .end: parts.append("end")
                case .invalid(let error): parts.append("invalid \(error)")
                }
            }
        }
        #expect(parts == ["head /slow", "body a", "body b", "body c", "end", "head /next", "end"])
    }

    @Test("a head that never ends is refused once it passes the size limit, however it is split")
    func endlessHead() {
        let reader = MessageReader<RequestHead>()
        var refused: HeadError?
        reader.read(ByteBuffer(string: "GET / HTTP/1.1\r\n")) { _ in }
        let chunk = ByteBuffer(string: "X-Filler: " + String(repeating: "a", count: 1000) + "\r\n")
        for _ in 0..<70 where refused == nil {
            reader.read(chunk) { part in
                if case .invalid(let error) = part { refused = error }
            }
        }
        #expect(refused == .tooLarge)
    }

    @Test("an answer with both Transfer-Encoding and Content-Length goes on without the length")
    func answerLengthDropped() throws {
        let text = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nX-Kept: 1\r\nConnection: close\r\n\r\n"
        let head = try #require(try HeadParser.response(ByteBuffer(string: text), toHEAD: false)?.0)
        #expect(head.message.framing == .chunked)
        var out = ByteBuffer()
        ForwardedHeaders.response(head, replaced: [], into: &out)
        #expect(String(buffer: out) == "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Kept: 1\r\n")
    }

    @Test("an answer whose Connection names its framing keeps that framing and its connection is not reused")
    func answerFramingInConnection() throws {
        let text = "HTTP/1.1 200 OK\r\nConnection: content-length, x-hop\r\nContent-Length: 5\r\nX-Hop: 1\r\n\r\n"
        let head = try #require(try HeadParser.response(ByteBuffer(string: text), toHEAD: false)?.0)
        #expect(head.message.framing == .length(5))
        #expect(!head.message.keepAlive)
        var out = ByteBuffer()
        ForwardedHeaders.response(head, replaced: [], into: &out)
        #expect(String(buffer: out) == "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n")
    }

    @Test("the upstream gets the client's fields minus hop-by-hop and identity ones, plus forwarding fields")
    func forwardedRequest() throws {
        let head = try #require(
            try request(
                "POST /v1/x HTTP/1.1\r\nHost: api.example.com\r\nConnection: keep-alive, X-Secret\r\nX-Secret: s\r\nX-Tenant-ID: evil\r\n"
                    + "X-Forwarded-For: 10.0.0.1\r\nTransfer-Encoding: chunked\r\nAccept: */*\r\n\r\n"))
        let upstream = try #require(Upstream("http://tasks:8080"))
        var ids = RequestIDs()
        let out = String(buffer: ForwardedHeaders.request(head, upstream: upstream, clientIP: "192.0.2.7", requestID: "rid", ids: &ids))
        #expect(out.hasPrefix("POST /v1/x HTTP/1.1\r\nHost: tasks:8080\r\n"))
        #expect(out.contains("\r\nTransfer-Encoding: chunked\r\n"))
        #expect(out.contains("\r\nAccept: */*\r\n"))
        #expect(out.contains("\r\nX-Forwarded-For: 10.0.0.1, 192.0.2.7\r\n"))
        #expect(out.contains("\r\nX-Forwarded-Host: api.example.com\r\n"))
        #expect(out.contains("\r\nX-Request-ID: rid\r\n"))
        #expect(out.contains("\r\ntraceparent: 00-"))
        #expect(!out.contains("X-Secret"))
        #expect(!out.contains("evil"))
        #expect(!out.lowercased().contains("connection:"))
        #expect(out.hasSuffix("\r\n\r\n"))
    }
}
