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
    /// Draining (SIGTERM): every answer ends its connection, so clients reconnect to
    /// another replica while this one still serves.
    let readiness: Readiness
    let tls: NIOSSLContext
}

/// The gateway's request path, on the client connection's event loop: decide (body
/// limit, token, tenant, limits), pick an upstream, then stream the request up and the
/// answer down with back-pressure both ways. Nothing on the common path leaves the loop:
/// tokens seen before and in-memory limits answer at once, idle upstream connections of
/// the same loop are reused.
final class ProxyHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// One request and its answer.
    final class Exchange {
        let head: RequestHead
        let route: Route
        let isLocal: Bool
        let requestID: String
        /// The client as the gateway decided it (the TCP peer, or with trusted proxies in
        /// front, the address the outermost one saw); passed on as the last forwarded hop.
        let clientIP: String
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
        /// When the upstream must have answered, from the first byte sent to it.
        var deadline: NIODeadline?
        /// Body bytes that arrived before an upstream was ready.
        var pending: [ByteBuffer] = []
        var bodyBytes = 0
        var requestEnded = false
        var responseStarted = false
        var responseEnded = false
        var upstreamKeepAlive = true
        var status = 0
        var closeAfter = false
        /// The gateway's span, when traces are exported.
        var span: ProxySpan?

        init(head: RequestHead, route: Route, isLocal: Bool, requestID: String, clientIP: String) {
            self.head = head
            self.route = route
            self.isLocal = isLocal
            self.requestID = requestID
            self.clientIP = clientIP
            self.origin = head.message.first(.origin)
            switch head.method {
            case .GET, .HEAD, .OPTIONS, .PUT, .DELETE: self.retryable = head.message.framing == .none
            default: self.retryable = false
            }
            // HTTP/1.0 answers are delimited by the connection's end.
            self.closeAfter = !head.message.keepAlive || head.version == .http1_0
        }
    }

    let services: ProxyServices
    private var context: ChannelHandlerContext?
    private var peer = ""
    private var exchange: Exchange?
    /// Parts of pipelined requests that arrived while the one before was in flight.
    private var pipelined = CircularBuffer<WirePart<RequestHead>>()
    private var replaying = false
    private var readsPaused = false
    private var pendingRead = false
    private var upstreamNeedsFlush = false
    private var ids = RequestIDs()
    private let reader = MessageReader<RequestHead>()
    private var memo = ConnectionMemo()
    /// One timer per connection, armed for the earliest of the answer's deadline and the
    /// idle limit. It is moved only when it fires or must fire sooner, so back-to-back
    /// requests do not each schedule and cancel one.
    private var watch: Scheduled<Void>?
    private var watchAt = NIODeadline.distantFuture
    private var idleSince = NIODeadline.now()
    /// This loop's idle upstream connections, found once per connection.
    private var idlePool: IdleConnections?
    /// The request metrics of this connection's last route and outcome.
    private var recentMetrics = AccessLog.Recent()
    /// The answer has gone out and the connection is ending, but the client was still
    /// sending: what it sends is read and dropped for a while, so that closing does not
    /// reset the connection before the client has read the answer.
    private var lingering = false

    init(services: ProxyServices) {
        self.services = services
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        peer = context.channel.remoteAddress?.ipAddress ?? ""
        idlePool = services.idle.current(context.eventLoop)
        arm(idleSince + FrontDoor.idleTimeout)
    }

    func channelActive(context: ChannelHandlerContext) {
        // Handlers are usually added before the connection is active; the idle limit starts now.
        idleSince = .now()
        arm(idleSince + FrontDoor.idleTimeout)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        watch?.cancel()
        watch = nil
        self.context = nil
    }

    // MARK: Timers

    private func arm(_ deadline: NIODeadline) {
        guard let context, context.channel.isActive, watch == nil || deadline < watchAt else { return }
        watch?.cancel()
        watchAt = deadline
        watch = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in self?.watchFired() }
    }

    /// An answer past its deadline is a 504; a connection idle for too long ends; a
    /// request still being decided or connected is looked at again later.
    private func watchFired() {
        watch = nil
        watchAt = .distantFuture
        let now = NIODeadline.now()
        if let exchange {
            if let deadline = exchange.deadline, deadline <= now {
                timedOut(exchange)
            }
            if let current = self.exchange {
                // A deadline already past has been dealt with; the connection is ending.
                if let deadline = current.deadline, deadline > now { arm(deadline) } else { arm(now + FrontDoor.idleTimeout) }
            } else {
                arm(idleSince + FrontDoor.idleTimeout)
            }
        } else if idleSince + FrontDoor.idleTimeout <= now {
            context?.close(promise: nil)
        } else {
            arm(idleSince + FrontDoor.idleTimeout)
        }
    }

    // MARK: Client side

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !lingering else { return }
        reader.read(unwrapInboundIn(data)) { part in received(part) }
    }

    private func received(_ part: WirePart<RequestHead>) {
        if !pipelined.isEmpty || exchange?.requestEnded == true {
            // The next request waits until the answer to this one has gone out.
            pipelined.append(part)
            updateReads()
            return
        }
        handle(part)
    }

    private func handle(_ part: WirePart<RequestHead>) {
        switch part {
        case .head(let head): begin(head)
        case .body(let chunk): requestBody(chunk)
        case .end: requestEnd()
        case .invalid(let error): unreadable(error)
        }
    }

    /// Bytes that are not HTTP/1.1 as RFC 9112 has it: answered, then the connection
    /// ends, since where the next request would start is unknown.
    private func unreadable(_ error: HeadError) {
        let problem: Problem
        switch error {
        case .malformed(let detail): problem = Problem.badRequest(detail)
        case .unsupported(let detail): problem = Problem(status: .notImplemented, detail: detail)
        case .tooLarge: problem = Problem(status: .requestHeaderFieldsTooLarge, detail: "The request head exceeds \(HeadParser.maxHeadBytes) bytes.")
        }
        pipelined.removeAll()
        guard let exchange else {
            guard let context else { return }
            var out = ByteBuffer()
            Self.writeProblem(problem, into: &out) { $0.writeStaticString("Connection: close\r\n") }
            context.writeAndFlush(wrapOutboundOut(out)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            return
        }
        exchange.closeAfter = true
        if exchange.responseStarted {
            context?.close(promise: nil)
        } else {
            answer(problem)
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
        watch?.cancel()
        watch = nil
        if let exchange {
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
        // Graceful shutdown: the request in flight is answered, then the connection ends.
        if event is ChannelShouldQuiesceEvent {
            if let exchange { exchange.closeAfter = true } else { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func begin(_ head: RequestHead) {
        let route = services.routes.table.match(head.path)
        let exchange = Exchange(
            head: head, route: route ?? services.local, isLocal: route == nil, requestID: ForwardedHeaders.requestID(head, ids: &ids),
            clientIP: clientIP(head))
        exchange.span = route.flatMap { ProxySpan(head, route: $0.prefix) }
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
        var contentLength: Int?
        if case .length(let length) = head.message.framing { contentLength = length }
        // The connection's last token again is the common case: no new string for it.
        let bearer = memo.caller.flatMap { head.message.hasBearer($0.token) ? $0.token : nil } ?? head.message.bearer
        let facts = RequestFacts(route: route, method: head.method, contentLength: contentLength, bearer: bearer, clientIP: exchange.clientIP)
        if let verdict = services.gatekeeper.decideNow(facts, memo: &memo) {
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
    private func clientIP(_ head: RequestHead) -> String {
        guard services.trustedProxyHops > 0 else { return peer }
        let hops = head.message.values(.forwardedFor).flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        guard hops.count >= services.trustedProxyHops else { return peer }
        return hops[hops.count - services.trustedProxyHops]
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
            upstream.write(chunk)
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
        } else if exchange.upstream != nil {
            // The body's own framing (length or last chunk) has already gone up.
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
        if !fresh, let idle = idlePool?.take(upstream) {
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
                    failed(exchange, upstream: upstream, nothingSent: true)
                }
            case .failure:
                failed(exchange, upstream: upstream, nothingSent: true)
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
        let started = NIODeadline.now()
        exchange.upstreamStarted = started
        if exchange.deadline == nil {
            let deadline = started + .seconds(exchange.route.timeout.components.seconds)
            exchange.deadline = deadline
            arm(deadline)
        }
        connection.begin(
            ForwardedHeaders.request(
                exchange.head, upstream: connection.upstream, clientIP: exchange.clientIP, requestID: exchange.requestID,
                traceparent: exchange.span?.traceparent, ids: &ids),
            method: exchange.head.method)
        // The gateway has accepted the request: the client may send the body now.
        if !exchange.requestEnded, exchange.head.message.first(.expect)?.lowercased() == "100-continue" {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(staticString: "HTTP/1.1 100 Continue\r\n\r\n")), promise: nil)
        }
        for chunk in exchange.pending { connection.write(chunk) }
        exchange.pending = []
        connection.flush()
        updateReads()
    }

    /// A connection that failed before any answer: the next upstream for a retryable
    /// request, else 502. A kept-alive connection the upstream had closed meanwhile is
    /// not the upstream's fault; a retryable request goes again on a new connection. A
    /// connection that could not be opened carried nothing (the body waits in `pending`),
    /// so any request goes on to the next upstream: a replica that stopped accepting
    /// (shutting down) costs no POST a 502.
    private func failed(_ exchange: Exchange, upstream: Upstream, staleReuse: Bool = false, nothingSent: Bool = false) {
        exchange.upstream = nil
        if staleReuse && exchange.retryable {
            connect(exchange, fresh: true)
            return
        }
        services.health.record(upstream, success: false, now: Date().timeIntervalSince1970)
        exchange.candidates.removeFirst()
        if exchange.retryable || nothingSent, !exchange.candidates.isEmpty {
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

    /// The fields the gateway adds to every answer: request id, limits, CORS, and whether
    /// the connection ends.
    private func writeGatewayFields(_ out: inout ByteBuffer, _ exchange: Exchange) {
        if services.readiness.isDraining { exchange.closeAfter = true }
        out.writeStaticString("X-Request-ID: ")
        out.writeString(exchange.requestID)
        out.writeStaticString("\r\n")
        if let binding = exchange.admission?.limits?.binding { LimitPolicy.writeHeaders(binding, into: &out) }
        services.cors.decorate(&out, origin: exchange.origin)
        if exchange.closeAfter { out.writeStaticString("Connection: close\r\n") }
    }

    /// An upstream's fields that the gateway's own replace in this answer.
    private func replacedFields(_ exchange: Exchange) -> [FieldName] {
        switch (exchange.admission?.limits?.binding != nil, services.cors.allows(exchange.origin)) {
        case (false, false): []
        case (true, false): Self.limitFields
        case (false, true): CORSPolicy.decorated
        case (true, true): Self.limitFields + CORSPolicy.decorated
        }
    }

    private static let limitFields = [FieldName("ratelimit-policy"), FieldName("ratelimit")]

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

    /// A problem answer with no exchange to speak for (the request could not be read).
    private static func writeProblem(_ problem: Problem, into out: inout ByteBuffer, extra: (inout ByteBuffer) -> Void) {
        let body = (try? PlatformJSON.encoder.encode(problem)) ?? Data()
        writeStatusLine(HTTPResponseStatus(statusCode: problem.statusCode), into: &out)
        out.writeStaticString("Content-Type: application/problem+json\r\nContent-Length: ")
        out.writeString(String(body.count))
        out.writeStaticString("\r\n")
        extra(&out)
        out.writeStaticString("\r\n")
        out.writeBytes(body)
    }

    private static func writeStatusLine(_ status: HTTPResponseStatus, into out: inout ByteBuffer) {
        out.writeStaticString("HTTP/1.1 ")
        out.writeString(String(status.code))
        out.writeStaticString(" ")
        out.writeString(status.reasonPhrase)
        out.writeStaticString("\r\n")
    }

    private func respond(status: HTTPResponseStatus, fields: HTTPHeaders, body: ByteBuffer?) {
        guard let context, let exchange, !exchange.responseStarted else { return }
        if let upstream = exchange.upstream {
            // Whatever the upstream was doing for this request no longer matters.
            upstream.close()
            exchange.upstream = nil
        }
        // A body still arriving is read and dropped; if it is large the connection ends.
        if !exchange.requestEnded, exchange.head.message.framing != .none {
            exchange.closeAfter = true
        }
        exchange.status = Int(status.code)
        exchange.responseStarted = true
        exchange.responseEnded = true
        var out = ByteBuffer()
        Self.writeStatusLine(status, into: &out)
        for (name, value) in fields {
            out.writeString(name)
            out.writeStaticString(": ")
            out.writeString(value)
            out.writeStaticString("\r\n")
        }
        out.writeStaticString("Content-Length: ")
        out.writeString(String(body?.readableBytes ?? 0))
        out.writeStaticString("\r\n")
        writeGatewayFields(&out, exchange)
        out.writeStaticString("\r\n")
        // An answer to HEAD says how long the body would be, and sends none.
        if var body, exchange.head.method != .HEAD { out.writeBuffer(&body) }
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
        if exchange.requestEnded || exchange.closeAfter {
            finish(exchange)
        } else {
            updateReads()
        }
    }

    private func finish(_ exchange: Exchange) {
        guard self.exchange === exchange else { return }
        self.exchange = nil
        idleSince = .now()
        exchange.span?.end(status: exchange.status)
        record(exchange)
        if exchange.closeAfter {
            pipelined.removeAll()
            if exchange.requestEnded { context?.close(promise: nil) } else { linger() }
        } else {
            replayPipelined()
        }
    }

    /// Ends a connection whose client is still sending (a body over the limit, say).
    /// Closing at once would leave unread bytes behind, and the kernel answers those with
    /// a reset that can destroy the answer before the client reads it. So the gateway
    /// stops writing (FIN), drops what still arrives, and closes when the client does or
    /// after `FrontDoor.lingerTime`: nginx's lingering close.
    private func linger() {
        guard let context else { return }
        lingering = true
        readsPaused = false
        pendingRead = false
        context.read()
        context.close(mode: .output).assumeIsolated().whenFailure { _ in context.close(promise: nil) }
        context.eventLoop.assumeIsolated().scheduleTask(in: FrontDoor.lingerTime) { [weak self] in
            self?.context?.close(promise: nil)
        }
    }

    private func record(_ exchange: Exchange) {
        guard !exchange.isLocal else { return }
        services.accessLog.record(
            &recentMetrics,
            AccessLog.Entry(
                requestID: exchange.requestID, route: exchange.route.prefix, method: exchange.head.method, status: exchange.status,
                tenant: exchange.admission?.identity, plan: exchange.admission?.plan ?? .free, total: .now() - exchange.started,
                upstream: exchange.upstreamTime))
    }
}

extension ProxyHandler: UpstreamListener {
    func upstreamRead(_ part: WirePart<ResponseHead>, from connection: UpstreamConnection) {
        guard let context, let exchange, exchange.upstream === connection else {
            connection.close()
            return
        }
        switch part {
        case .head(let head):
            exchange.responseStarted = true
            exchange.status = head.status
            // A request that went up as HTTP/1.0 leaves the upstream free to close after its
            // answer, whatever the answer says.
            exchange.upstreamKeepAlive = head.message.keepAlive && exchange.head.version == .http1_1
            if !head.message.keepAlive, let upstream = exchange.upstream {
                services.health.leaving(upstream.upstream, now: Date().timeIntervalSince1970)
            }
            // An answer delimited by the upstream closing is delimited the same way here.
            if head.message.framing == .untilClose { exchange.closeAfter = true }
            if let started = exchange.upstreamStarted { exchange.upstreamTime = .now() - started }
            var out = ByteBuffer()
            out.reserveCapacity(head.message.bytes.readableBytes + 160)
            ForwardedHeaders.response(head, replaced: replacedFields(exchange), into: &out)
            writeGatewayFields(&out, exchange)
            out.writeStaticString("\r\n")
            context.write(wrapOutboundOut(out), promise: nil)
        case .body(let chunk):
            context.write(wrapOutboundOut(chunk), promise: nil)
            if !context.channel.isWritable { connection.setPaused(true) }
        case .invalid:
            connection.close()
            exchange.upstream = nil
            if exchange.responseStarted {
                context.close(promise: nil)
            } else {
                services.health.record(connection.upstream, success: false, now: Date().timeIntervalSince1970)
                exchange.closeAfter = exchange.closeAfter || !exchange.requestEnded
                answer(Problem(status: .badGateway, detail: "The upstream service sent a malformed answer."))
            }
        case .end:
            exchange.responseEnded = true
            exchange.upstream = nil
            context.flush()
            services.health.record(connection.upstream, success: ![502, 503, 504].contains(exchange.status), now: Date().timeIntervalSince1970)
            if exchange.requestEnded, exchange.upstreamKeepAlive, let idle = idlePool {
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
