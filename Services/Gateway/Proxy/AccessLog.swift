import Contracts
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import ServiceKit

/// One JSON line per proxied request (never the token) and the request metrics.
struct AccessLog: Sendable {
    let logger: Logger

    struct RequestKey: Hashable, Sendable {
        var route: String
        var status: Int
        var plan: Plan
    }
    private let requests = MetricCache<RequestKey, Counter>()
    private let upstreamDurations = MetricCache<String, Timer>()

    init(logger: Logger) {
        self.logger = logger
    }

    struct Entry {
        var requestID: String
        var route: String
        var method: HTTPMethod
        var status: Int
        var tenant: Identity?
        var plan: Plan
        var total: TimeAmount
        var upstream: TimeAmount?
    }

    /// The handles a connection used last: its requests mostly repeat route and outcome,
    /// and finding a handle takes a lock and a hash.
    struct Recent {
        var key: RequestKey?
        var counter: Counter?
        var timerRoute: String?
        var timer: Timer?
    }

    func record(_ recent: inout Recent, _ entry: Entry) {
        let key = RequestKey(route: entry.route, status: entry.status, plan: entry.plan)
        if recent.key != key {
            recent.key = key
            recent.counter = requests.handle(key) {
                Counter(
                    label: "gateway_requests_total",
                    dimensions: [("route", entry.route), ("status", String(entry.status)), ("plan", entry.plan.rawValue)])
            }
        }
        recent.counter?.increment()
        if let upstream = entry.upstream {
            if recent.timerRoute != entry.route {
                recent.timerRoute = entry.route
                recent.timer = upstreamDurations.handle(entry.route) {
                    Timer(label: "gateway_upstream_duration", dimensions: [("route", entry.route)])
                }
            }
            recent.timer?.recordNanoseconds(upstream.nanoseconds)
        }
        guard logger.logLevel <= .info else { return }
        var metadata: Logger.Metadata = [
            "request_id": .string(entry.requestID), "route": .string(entry.route), "method": .string(entry.method.rawValue),
            "status": .stringConvertible(entry.status), "total_ms": .stringConvertible(Self.milliseconds(entry.total)),
        ]
        if let upstream = entry.upstream { metadata["upstream_ms"] = .stringConvertible(Self.milliseconds(upstream)) }
        if let tenant = entry.tenant { metadata["tenant_id"] = .string(tenant.tenantID.uuidString.lowercased()) }
        logger.info("access", metadata: metadata)
    }

    static func milliseconds(_ amount: TimeAmount) -> Double {
        (Double(amount.nanoseconds) / 1e4).rounded() / 100
    }
}
