import CRdKafka
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// An idempotent librdkafka producer (`enable.idempotence=true`: no duplicates from
/// retries, order kept per partition) whose delivery reports resume async callers.
///
/// Delivery reports are served by `rd_kafka_poll` on a dedicated OS thread, never on
/// a Swift concurrency thread (the machine has two of those; a blocking poll would
/// stall half of the process).
public final class KafkaProducer: @unchecked Sendable {
    let handle: OpaquePointer
    let reports: DeliveryReports
    let events: ProducerEvents
    let running = Atomic<Bool>(true)
    let logger: Logger
    private let pollThreadDone = DispatchSemaphore(value: 0)

    public init(brokers: String, clientID: String, logger: Logger, settings: [String: String] = [:]) throws {
        self.logger = logger
        let events = ProducerEvents()
        self.events = events
        self.reports = events.reports
        var all = [
            "bootstrap.servers": brokers,
            "client.id": clientID,
            "enable.idempotence": "true",
            "acks": "all",
            // Bounded so a caller (the outbox relay) learns of an outage and retries later
            // instead of waiting the five-minute default.
            "message.timeout.ms": "15000",
            "linger.ms": "5",
            // A broker that comes back is reconnected to within a second (the default backs
            // off to 10 s between attempts).
            "reconnect.backoff.max.ms": "1000",
        ]
        all.merge(settings) { $1 }
        let conf = try KafkaConfiguration.make(all)
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(events).toOpaque())
        rd_kafka_conf_set_dr_msg_cb(conf) { _, message, opaque in
            guard let message, let opaque else { return }
            let events = Unmanaged<ProducerEvents>.fromOpaque(opaque).takeUnretainedValue()
            let ticket = UInt(bitPattern: message.pointee._private)
            let err = message.pointee.err
            events.reports.complete(ticket, error: err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError(err))
        }
        rd_kafka_conf_set_error_cb(conf) { handle, err, _, opaque in
            guard let handle, let opaque, err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN.rawValue else { return }
            Unmanaged<ProducerEvents>.fromOpaque(opaque).takeUnretainedValue().brokersLost.store(true, ordering: .releasing)
            // What waits to be sent (or was sent without an answer) fails now instead of
            // going out to a broker that may come back without the topics: the caller
            // sends it again, after `lostItsBrokers` had it check them (a message sent
            // and written may then arrive twice; consumers are idempotent).
            let purge = RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT | RD_KAFKA_PURGE_F_NON_BLOCKING
            _ = rd_kafka_purge(handle, Int32(purge))
        }
        self.handle = try KafkaConfiguration.newHandle(RD_KAFKA_PRODUCER, conf)
        // The thread holds the producer until `shutdown()` stops it.
        let thread = Thread { [self] in
            while running.load(ordering: .acquiring) { rd_kafka_poll(handle, 100) }
            pollThreadDone.signal()
        }
        thread.name = "kafka-producer-poll"
        thread.start()
    }

    /// True once librdkafka has raised a fatal error: the producer will deliver nothing more
    /// (an idempotent producer whose broker lost its producer state after a restart).
    public var hasFailedForGood: Bool {
        rd_kafka_fatal_error(handle, nil, 0) != RD_KAFKA_RESP_ERR_NO_ERROR
    }

    /// True once every broker was unreachable at the same time (librdkafka's
    /// ALL_BROKERS_DOWN); what was waiting then has failed. A broker that restarted
    /// without its data acknowledges writes to topics it no longer has, and they are
    /// lost: so the caller creates the topics again and uses a new producer.
    public var lostItsBrokers: Bool {
        events.brokersLost.load(ordering: .acquiring)
    }

    /// Enqueues `messages` in order and waits for every delivery report. The result holds
    /// one entry per message: nil when delivered, the error otherwise.
    public func send(_ messages: [OutgoingMessage]) async -> [KafkaError?] {
        guard !messages.isEmpty else { return [] }
        return await withCheckedContinuation { continuation in
            let batch = DeliveryBatch(count: messages.count, continuation: continuation)
            for (index, message) in messages.enumerated() {
                let ticket = reports.register(batch: batch, index: index)
                if let error = enqueue(message, ticket: ticket) {
                    reports.complete(ticket, error: error)
                }
            }
        }
    }

    /// Sends one message and throws when it was not delivered.
    public func send(_ message: OutgoingMessage) async throws {
        if let error = await send([message]).first ?? nil { throw error }
    }

    func enqueue(_ message: OutgoingMessage, ticket: UInt) -> KafkaError? {
        // RD_KAFKA_MSG_F_COPY: librdkafka copies key and value, and headers are copied by
        // the header list, so nothing here needs to outlive the call.
        let cStrings = ([message.topic] + message.headers.map { $0.0 }).map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var key = Array(message.key.utf8)
        var value = message.value
        let headerValues = message.headers.map { Array($0.1.utf8) }
        return key.withUnsafeMutableBytes { keyBytes in
            value.withUnsafeMutableBytes { valueBytes in
                var vus = [rd_kafka_vu_t]()
                var vu = rd_kafka_vu_t()
                vu.vtype = RD_KAFKA_VTYPE_TOPIC
                vu.u.cstr = UnsafePointer(cStrings[0])
                vus.append(vu)
                vu = rd_kafka_vu_t()
                vu.vtype = RD_KAFKA_VTYPE_KEY
                vu.u.mem.ptr = keyBytes.baseAddress
                vu.u.mem.size = keyBytes.count
                vus.append(vu)
                vu = rd_kafka_vu_t()
                vu.vtype = RD_KAFKA_VTYPE_VALUE
                vu.u.mem.ptr = valueBytes.baseAddress
                vu.u.mem.size = valueBytes.count
                vus.append(vu)
                vu = rd_kafka_vu_t()
                vu.vtype = RD_KAFKA_VTYPE_MSGFLAGS
                vu.u.i = RD_KAFKA_MSG_F_COPY
                vus.append(vu)
                vu = rd_kafka_vu_t()
                vu.vtype = RD_KAFKA_VTYPE_OPAQUE
                vu.u.ptr = UnsafeMutableRawPointer(bitPattern: ticket)
                vus.append(vu)
                return withHeaderValues(headerValues) { valuePointers in
                    for (index, pointer) in valuePointers.enumerated() {
                        var header = rd_kafka_vu_t()
                        header.vtype = RD_KAFKA_VTYPE_HEADER
                        header.u.header.name = UnsafePointer(cStrings[index + 1])
                        header.u.header.val = pointer.baseAddress.map { UnsafeRawPointer($0) }
                        header.u.header.size = pointer.count
                        vus.append(header)
                    }
                    let error = vus.withUnsafeBufferPointer { buffer in
                        rd_kafka_produceva(handle, buffer.baseAddress, buffer.count)
                    }
                    guard let error else { return nil }
                    let code = rd_kafka_error_code(error)
                    rd_kafka_error_destroy(error)
                    return KafkaError(code)
                }
            }
        }
    }

    /// True when the broker answers a metadata request within a second.
    public func isConnected() async -> Bool {
        await withCheckedContinuation { continuation in
            let thread = Thread { [self] in
                var metadata: UnsafePointer<rd_kafka_metadata>?
                let err = rd_kafka_metadata(handle, 0, nil, &metadata, 1000)
                if let metadata { rd_kafka_metadata_destroy(metadata) }
                continuation.resume(returning: err == RD_KAFKA_RESP_ERR_NO_ERROR)
            }
            thread.start()
        }
    }

    /// Waits for messages in flight (at most 5 s), stops the poll thread, destroys the handle.
    public func shutdown() async {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        await onDedicatedThread { [self] in
            pollThreadDone.wait()
            rd_kafka_flush(handle, 5000)
            rd_kafka_destroy(handle)
        }
        reports.failAll(KafkaError(message: "producer shut down"))
    }
}

/// Keeps header values alive as contiguous byte buffers for the duration of `body`.
private func withHeaderValues<R>(_ values: [[UInt8]], _ body: ([UnsafeBufferPointer<UInt8>]) -> R) -> R {
    let pointers = values.map { bytes -> UnsafeMutableBufferPointer<UInt8> in
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        _ = buffer.initialize(from: bytes)
        return UnsafeMutableBufferPointer(rebasing: buffer[0..<bytes.count])
    }
    defer { pointers.forEach { UnsafeMutableBufferPointer(start: $0.baseAddress, count: max($0.count, 1)).deallocate() } }
    return body(pointers.map { UnsafeBufferPointer($0) })
}

/// Collects the delivery reports of one `send` call and resumes it when all arrived.
final class DeliveryBatch: Sendable {
    private let state: Mutex<(remaining: Int, results: [KafkaError?])>
    private let continuation: CheckedContinuation<[KafkaError?], Never>

    init(count: Int, continuation: CheckedContinuation<[KafkaError?], Never>) {
        self.state = Mutex((count, Array(repeating: nil, count: count)))
        self.continuation = continuation
    }

    func record(index: Int, error: KafkaError?) {
        let finished: [KafkaError?]? = state.withLock { state in
            state.results[index] = error
            state.remaining -= 1
            return state.remaining == 0 ? state.results : nil
        }
        if let finished { continuation.resume(returning: finished) }
    }
}

/// What librdkafka's callbacks report, reached through the handle's opaque pointer.
final class ProducerEvents: Sendable {
    let reports = DeliveryReports()
    let brokersLost = Atomic<Bool>(false)
}

/// Tickets in flight: each produced message carries its ticket as librdkafka's
/// per-message opaque pointer, and the delivery callback looks it up here.
final class DeliveryReports: Sendable {
    private let state = Mutex<(next: UInt, pending: [UInt: (DeliveryBatch, Int)])>((1, [:]))

    func register(batch: DeliveryBatch, index: Int) -> UInt {
        state.withLock { state in
            let ticket = state.next
            state.next &+= 1
            state.pending[ticket] = (batch, index)
            return ticket
        }
    }

    func complete(_ ticket: UInt, error: KafkaError?) {
        guard let (batch, index) = state.withLock({ $0.pending.removeValue(forKey: ticket) }) else { return }
        batch.record(index: index, error: error)
    }

    func failAll(_ error: KafkaError) {
        let all = state.withLock { state in
            defer { state.pending.removeAll() }
            return Array(state.pending.values)
        }
        for (batch, index) in all { batch.record(index: index, error: error) }
    }
}

/// Runs the producer as a lifecycle service: on shutdown it flushes and closes.
public struct KafkaProducerService: Service {
    public let producer: KafkaProducer

    public init(producer: KafkaProducer) {
        self.producer = producer
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await producer.shutdown()
    }
}
