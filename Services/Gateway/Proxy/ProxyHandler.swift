import Contracts
import Foundation
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOSSL
import ServiceKit

/// Everything the proxy handlers of all connections share.
struct ProxyServices: Sendable {
    let routes: LiveRouteTable
    let gatekeeper: Gatekeeper
    let health: UpstreamPool
    let cors: CORSPolicy
    let accessLog: AccessLog
    let trustedProxyHops: Int
    /// Paths no route matches go to the gateway's own routes (health, metrics, usage, 404).
    let local: Route
    let idle: IdleConnectionsByLoop
    let tls: NIOSSLContext
}

/// The gateway's request path, on the client connection's event loop: decide (body
/// limit, token, tenant, limits), pick an upstream, then stream the request up and the
/// answer down with back-pressure both ways. Nothing on the common path leaves the loop:
/// tokens seen before and in-memory limits answer at once, idle upstream connections of
/// the same loop are reused.
final class ProxyHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// One request and its answer.
    final class Exchange {
        let head: HTTPRequestHead
        let route: Route
        let isLocal: Bool
        let requestID: String
        let origin: String?
        let started = NIODeadline.now()
        /// Idempotent and without a body: may go to another upstream after a connection failure.
        let retryable: Bool
        var admission: Admission?
        var candidates: [Upstream] = []
        var upstream: UpstreamConnection?
        var reusedConnection = false
        var upstreamStarted: NIODeadline?
        var upstreamTime: TimeAmount?
        var timeout: Scheduled<Void>?
        /// Body bytes that arrived before an upstream was ready.
        var pending: [ByteBuffer] = []
        var bodyBytes = 0
        var requestEnded = false
        var responseStarted = false
        var responseEnded = false
        var upstreamKeepAlive = true
        var status = 0
        var closeAfter = false

        init(head: HTTPRequestHead, route: Route, isLocal: Bool, requestID: String) {
            self.head = head
            self.route = route
            self.isLocal = isLocal
            self.requestID = requestID
            self.origin = head.headers.first(name: "origin")
            let hasBody = head.headers.first(name: "content-length").flatMap(Int.init).map { $0 > 0 } ?? head.headers.contains(name: "transfer-encoding")
            switch head.method {
            case .GET, .HEAD, .OPTIONS, .PUT, .DELETE: self.retryable = !hasBody
            default: self.retryable = false
            }
            self.closeAfter = !head.isKeepAlive
        }
    }

    let services: ProxyServices
    private var context: ChannelHandlerContext?
    private var peer = ""
    private var exchange: Exchange?
    /// Parts of pipelined requests that arrived while the one before was in flight.
    private var pipelined = CircularBuffer<HTTPServerRequestPart>()
    private var replaying = false
    private var readsPaused = false
    private var pendingRead = false
    private var upstreamNeedsFlush = false
    private var ids = RequestIDs()

    init(services: ProxyServices) {
        self.services = services
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        peer = context.channel.remoteAddress?.ipAddress ?? ""
    }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    // MARK: Client side

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if !pipelined.isEmpty || exchange?.requestEnded == true {
            // The next request waits until the answer to this one has gone out.
            pipelined.append(part)
            updateReads()
            return
        }
        handle(part)
    }

    private func handle(_ part: HTTPServerRequestPart) {
        switch part {
        case .head(let head): begin(head)
        case .body(let chunk): requestBody(chunk)
        case .end: requestEnd()
        }
    }

    /// Starts the pipelined requests once nothing is in flight; an answer given at once
    /// (a refusal) lets the next one start in the same loop.
    private func replayPipelined() {
        guard !replaying else { return }
        replaying = true
        defer { replaying = false }
        while exchange?.requestEnded != true, let part = pipelined.popFirst() {
            handle(part)
        }
        // No client read completes after a replay to flush what went upstream.
        if upstreamNeedsFlush {
            upstreamNeedsFlush = false
            exchange?.upstream?.flush()
        }
        updateReads()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if upstreamNeedsFlush {
            upstreamNeedsFlush = false
            exchange?.upstream?.flush()
        }
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if readsPaused { pendingRead = true } else { context.read() }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        exchange?.upstream?.setPaused(!context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let exchange {
            exchange.timeout?.cancel()
            exchange.upstream?.close()
            exchange.upstream = nil
            if !exchange.responseEnded {
                // The client went away first (nginx's 499).
                exchange.status = 499
                record(exchange)
            }
            self.exchange = nil
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // An idle keep-alive connection ends; a long answer (a stream) in flight does not.
        if event is IdleStateHandler.IdleStateEvent {
            if exchange == nil { context.close(promise: nil) }
            return
        }
        // Graceful shutdown: the request in flight is answered, then the connection ends.
        if event is ChannelShouldQuiesceEvent {
            if let exchange { exchange.closeAfter = true } else { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func begin(_ head: HTTPRequestHead) {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? head.uri
        let route = services.routes.table.match(path)
        let exchange = Exchange(
            head: head, route: route ?? services.local, isLocal: route == nil, requestID: ForwardedHeaders.requestID(head.headers, ids: &ids))
        self.exchange = exchange
        updateReads()
        if CORSPolicy.isPreflight(head) {
            guard let fields = services.cors.preflight(head) else {
                answer(Problem.forbidden("The origin \(exchange.origin ?? "") may not call this API."))
                return
            }
            respond(status: .noContent, fields: fields, body: nil)
            return
        }
        guard let route else {
            admit(Admission(identity: nil, plan: .free, limits: nil))
            return
        }
        var bearer: String?
        if let authorization = head.headers.first(name: "authorization"), authorization.count > 7,
            authorization.prefix(7).lowercased() == "bearer "
        {
            bearer = String(authorization.dropFirst(7))
        }
        let facts = RequestFacts(
            route: route, method: head.method, contentLength: head.headers.first(name: "content-length").flatMap(Int.init), bearer: bearer,
            clientIP: clientIP(head))
        if let verdict = services.gatekeeper.decideNow(facts) {
            apply(verdict)
            return
        }
        guard let context else { return }
        let gatekeeper = services.gatekeeper
        let promise = context.eventLoop.makePromise(of: Verdict.self)
        promise.completeWithTask { await gatekeeper.decide(facts) }
        promise.futureResult.assumeIsolated().whenSuccess { [weak self] verdict in
            guard let self, self.exchange === exchange else { return }
            self.apply(verdict)
        }
    }

    /// The client: the TCP peer, or with trusted proxies in front, the address the
    /// outermost trusted proxy saw (that many entries from the end of X-Forwarded-For).
    private func clientIP(_ head: HTTPRequestHead) -> String {
        guard services.trustedProxyHops > 0 else { return peer }
        let hops = head.headers[canonicalForm: "x-forwarded-for"]
        guard hops.count >= services.trustedProxyHops else { return peer }
        return String(hops[hops.count - services.trustedProxyHops])
    }

    private func requestBody(_ chunk: ByteBuffer) {
        guard let exchange, !exchange.responseEnded else { return }
        exchange.bodyBytes += chunk.readableBytes
        if exchange.bodyBytes > exchange.route.maxBodyBytes {
            // A chunked body without Content-Length is cut off while it streams.
            exchange.closeAfter = true
            if exchange.responseStarted {
                context?.close(promise: nil)
            } else {
                answer(Gatekeeper.bodyTooLarge(exchange.route))
            }
            return
        }
        if let upstream = exchange.upstream {
            upstream.write(.body(.byteBuffer(chunk)))
            upstreamNeedsFlush = true
        } else {
            exchange.pending.append(chunk)
        }
    }

    private func requestEnd() {
        guard let exchange else { return }
        exchange.requestEnded = true
        if exchange.responseEnded {
            finish(exchange)
        } else if let upstream = exchange.upstream {
            upstream.write(.end(nil))
            upstreamNeedsFlush = true
        }
    }

    // MARK: Deciding and connecting

    private func apply(_ verdict: Verdict) {
        switch verdict {
        case .refuse(let problem, let admission):
            exchange?.admission = admission
            answer(problem)
        case .admit(let admission): admit(admission)
        }
    }

    private func admit(_ admission: Admission) {
        guard let exchange else { return }
        exchange.admission = admission
        exchange.candidates = services.health.candidates(exchange.route.upstreams, now: Date().timeIntervalSince1970)
        guard !exchange.candidates.isEmpty else {
            var problem = Problem(status: .serviceUnavailable, detail: "The upstream service is failing; try again shortly.")
            problem.retryAfter = Int(services.health.coolDown)
            answer(problem)
            return
        }
        connect(exchange, fresh: false)
    }

    private func connect(_ exchange: Exchange, fresh: Bool) {
        guard let context, let upstream = exchange.candidates.first else { return }
        if !fresh, let idle = services.idle.current(context.eventLoop)?.take(upstream) {
            bind(idle, to: exchange, reused: true)
            return
        }
        UpstreamConnection.connect(to: upstream, on: context.eventLoop, tls: services.tls).assumeIsolated().whenComplete { [weak self] result in
            guard let self, self.exchange === exchange, !exchange.responseEnded else {
                if case .success(let channel) = result { channel.close(promise: nil) }
                return
            }
            switch result {
            case .success(let channel):
                do {
                    bind(try channel.pipeline.syncOperations.handler(type: UpstreamConnection.self), to: exchange, reused: false)
                } catch {
                    channel.close(promise: nil)
                    failed(exchange, upstream: upstream)
                }
            case .failure:
                failed(exchange, upstream: upstream)
            }
        }
    }

    private func bind(_ connection: UpstreamConnection, to exchange: Exchange, reused: Bool) {
        guard let context else {
            connection.close()
            return
        }
        exchange.upstream = connection
        exchange.reusedConnection = reused
        connection.listener = self
        connection.setPaused(!context.channel.isWritable)
        exchange.upstreamStarted = .now()
        if exchange.timeout == nil {
            exchange.timeout = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(exchange.route.timeout.components.seconds)) {
                [weak self] in
                self?.timedOut(exchange)
            }
        }
        connection.write(.head(ForwardedHeaders.request(exchange.head, upstream: connection.upstream, clientIP: peer, requestID: exchange.requestID, ids: &ids)))
        // The gateway has accepted the request: the client may send the body now.
        if !exchange.requestEnded, exchange.head.headers.first(name: "expect")?.lowercased() == "100-continue" {
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: exchange.head.version, status: .continue))), promise: nil)
        }
        for chunk in exchange.pending { connection.write(.body(.byteBuffer(chunk))) }
        exchange.pending = []
        if exchange.requestEnded { connection.write(.end(nil)) }
        connection.flush()
        updateReads()
    }

    /// A connection that failed before any answer: the next upstream for a retryable
    /// request, else 502. A kept-alive connection the upstream had closed meanwhile is
    /// not the upstream's fault; a retryable request goes again on a new connection.
    private func failed(_ exchange: Exchange, upstream: Upstream, staleReuse: Bool = false) {
        exchange.upstream = nil
        if staleReuse && exchange.retryable {
            connect(exchange, fresh: true)
            return
        }
        services.health.record(upstream, success: false, now: Date().timeIntervalSince1970)
        exchange.candidates.removeFirst()
        if exchange.retryable, !exchange.candidates.isEmpty {
            connect(exchange, fresh: false)
            return
        }
        answer(Problem(status: .badGateway, detail: "The upstream service is unavailable."))
    }

    private func timedOut(_ exchange: Exchange) {
        guard self.exchange === exchange, !exchange.responseEnded else { return }
        if let upstream = exchange.upstream {
            upstream.close()
            exchange.upstream = nil
            services.health.record(upstream.upstream, success: false, now: Date().timeIntervalSince1970)
        }
        if exchange.responseStarted {
            context?.close(promise: nil)
        } else {
            exchange.closeAfter = exchange.closeAfter || !exchange.requestEnded
            answer(Problem(status: .gatewayTimeout, detail: "The upstream service did not answer in time."))
        }
    }

    // MARK: Upstream side

    private func responseHeaders(_ fields: inout HTTPHeaders, _ exchange: Exchange) {
        fields.replaceOrAdd(name: "X-Request-ID", value: exchange.requestID)
        if let binding = exchange.admission?.limits?.binding {
            let (policy, state) = LimitPolicy.headers(binding)
            fields.replaceOrAdd(name: "RateLimit-Policy", value: policy)
            fields.replaceOrAdd(name: "RateLimit", value: state)
        }
        services.cors.decorate(&fields, origin: exchange.origin)
        if exchange.closeAfter { fields.replaceOrAdd(name: "Connection", value: "close") }
    }

    private func updateReads() {
        let wanted: Bool
        if let exchange {
            if exchange.responseEnded {
                wanted = true  // drain what is left of the request body
            } else if let upstream = exchange.upstream {
                wanted = exchange.requestEnded || upstream.isWritable
            } else {
                wanted = false  // deciding or connecting: what arrives now waits in `pending`
            }
        } else {
            wanted = true
        }
        readsPaused = !wanted || !pipelined.isEmpty
        if !readsPaused, pendingRead, let context {
            pendingRead = false
            context.read()
        }
    }

    /// Answers from the gateway itself: a refusal, a failure, a preflight.
    private func answer(_ problem: Problem) {
        var fields: HTTPHeaders = ["Content-Type": "application/problem+json"]
        if let retryAfter = problem.retryAfter { fields.add(name: "Retry-After", value: String(retryAfter)) }
        let body = ByteBuffer(bytes: (try? PlatformJSON.encoder.encode(problem)) ?? Data())
        respond(status: HTTPResponseStatus(statusCode: problem.statusCode), fields: fields, body: body)
    }

    private func respond(status: HTTPResponseStatus, fields: HTTPHeaders, body: ByteBuffer?) {
        guard let context, let exchange, !exchange.responseStarted else { return }
        if let upstream = exchange.upstream {
            // Whatever the upstream was doing for this request no longer matters.
            upstream.close()
            exchange.upstream = nil
        }
        exchange.timeout?.cancel()
        // A body still arriving is read and dropped; if it is large the connection ends.
        if !exchange.requestEnded, exchange.bodyBytes > 0 || exchange.head.headers.contains(name: "content-length") {
            exchange.closeAfter = true
        }
        var fields = fields
        fields.replaceOrAdd(name: "Content-Length", value: String(body?.readableBytes ?? 0))
        responseHeaders(&fields, exchange)
        exchange.status = Int(status.code)
        exchange.responseStarted = true
        exchange.responseEnded = true
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: exchange.head.version, status: status, headers: fields))), promise: nil)
        if let body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        if exchange.requestEnded || exchange.closeAfter {
            finish(exchange)
        } else {
            updateReads()
        }
    }

    private func finish(_ exchange: Exchange) {
        guard self.exchange === exchange else { return }
        self.exchange = nil
        record(exchange)
        if exchange.closeAfter {
            pipelined.removeAll()
            context?.close(promise: nil)
        } else {
            replayPipelined()
        }
    }

    private func record(_ exchange: Exchange) {
        guard !exchange.isLocal else { return }
        services.accessLog.record(
            AccessLog.Entry(
                requestID: exchange.requestID, route: exchange.route.prefix, method: exchange.head.method, status: exchange.status,
                tenant: exchange.admission?.identity, plan: exchange.admission?.plan ?? .free, total: .now() - exchange.started,
                upstream: exchange.upstreamTime))
    }
}

extension ProxyHandler: UpstreamListener {
    func upstreamRead(_ part: HTTPClientResponsePart, from connection: UpstreamConnection) {
        guard let context, let exchange, exchange.upstream === connection else {
            connection.close()
            return
        }
        switch part {
        case .head(let head):
            exchange.responseStarted = true
            exchange.status = Int(head.status.code)
            exchange.upstreamKeepAlive = head.isKeepAlive
            if let started = exchange.upstreamStarted { exchange.upstreamTime = .now() - started }
            var fields = ForwardedHeaders.response(head)
            responseHeaders(&fields, exchange)
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: exchange.head.version, status: head.status, headers: fields))), promise: nil)
        case .body(let chunk):
            context.write(wrapOutboundOut(.body(.byteBuffer(chunk))), promise: nil)
            if !context.channel.isWritable { connection.setPaused(true) }
        case .end:
            exchange.timeout?.cancel()
            exchange.responseEnded = true
            exchange.upstream = nil
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            services.health.record(connection.upstream, success: ![502, 503, 504].contains(exchange.status), now: Date().timeIntervalSince1970)
            if exchange.requestEnded, exchange.upstreamKeepAlive, let idle = services.idle.current(context.eventLoop) {
                idle.put(connection)
            } else {
                connection.close()
            }
            if exchange.requestEnded {
                finish(exchange)
            } else {
                updateReads()
            }
        }
    }

    func upstreamReadComplete() {
        context?.flush()
    }

    func upstreamClosed(_ connection: UpstreamConnection) {
        guard let exchange, exchange.upstream === connection, !exchange.responseEnded else { return }
        if exchange.responseStarted {
            // The answer was cut short; the client can only learn it from the connection ending.
            exchange.upstream = nil
            context?.close(promise: nil)
            return
        }
        failed(exchange, upstream: connection.upstream, staleReuse: exchange.reusedConnection)
    }

    func upstreamWritabilityChanged(_ connection: UpstreamConnection) {
        guard exchange?.upstream === connection else { return }
        updateReads()
    }
}
