import CRdKafka
import Contracts
import Foundation
import Logging
import Synchronization

/// A consumer-group member with manual commits (`enable.auto.commit=false`).
///
/// A dedicated OS thread polls librdkafka, hands each batch to the async side through
/// an `AsyncStream`, then waits until the batch is finished (backpressure: one batch in
/// flight) and commits its offsets only if the batch succeeded. So an offset is never
/// committed before its message's effect, and a crash redelivers at most one batch.
public final class KafkaConsumer: @unchecked Sendable {
    let handle: OpaquePointer
    let logger: Logger
    let maxBatch: Int
    let polling = Atomic<Bool>(true)
    private let threadDone = DispatchSemaphore(value: 0)
    private let closed = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    /// The batch handed out and not yet finished; released if the stream is abandoned.
    private let outstanding = Mutex<Batch?>(nil)
    /// False once the handle is destroyed; held while other threads use the handle.
    let alive = Mutex<Bool>(true)

    public init(brokers: String, groupID: String, topics: [String], logger: Logger, maxBatch: Int = 500, settings: [String: String] = [:]) throws {
        self.logger = logger
        self.maxBatch = maxBatch
        var all = [
            "bootstrap.servers": brokers,
            "group.id": groupID,
            "enable.auto.commit": "false",
            "auto.offset.reset": "earliest",
            "session.timeout.ms": "6000",
            "heartbeat.interval.ms": "1000",
            "enable.partition.eof": "false",
            "topic.metadata.refresh.interval.ms": "5000",
            // A fetch waits at most this long for new messages. A broker that does not answer
            // a waiting fetch when messages arrive (tansu) otherwise adds up to 500 ms to
            // every event's way; an idle consumer asks ten times a second instead of twice.
            "fetch.wait.max.ms": "100",
            // A broker that comes back is reconnected to within a second.
            "reconnect.backoff.max.ms": "1000",
            // A subscribed topic that is gone is reported at once (the default waits 30 s
            // for metadata to propagate), so `recoverVanishedTopics` creates it again
            // before the group's next assignment is computed without it.
            "topic.metadata.propagation.max.ms": "500",
        ]
        all.merge(settings) { $1 }
        let conf = try KafkaConfiguration.make(all)
        self.handle = try KafkaConfiguration.newHandle(RD_KAFKA_CONSUMER, conf)
        rd_kafka_poll_set_consumer(handle)
        self.topics = topics
        self.brokers = brokers
    }

    let topics: [String]
    let brokers: String
    /// When the poll thread last re-created vanished topics (at most every few seconds).
    private var lastRecovery = ContinuousClock.now - .seconds(60)

    /// Joins the group. Done when polling starts, not at creation: a member that joins and
    /// never polls holds its partitions until max.poll.interval.ms (5 minutes), and a host
    /// built but not run (a test reading its routes) must not take events from the one
    /// that runs.
    func subscribe() throws {
        guard let list = rd_kafka_topic_partition_list_new(Int32(topics.count)) else {
            throw KafkaError(message: "could not allocate a partition list")
        }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics { rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA_VALUE) }
        let err = rd_kafka_subscribe(handle, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err) }
    }

    /// A batch of messages; call `finish(success:)` exactly once.
    public final class Batch: Sendable {
        public let messages: [ConsumedMessage]
        private let outcome = Mutex<Bool?>(nil)
        private let done = DispatchSemaphore(value: 0)

        init(messages: [ConsumedMessage]) {
            self.messages = messages
        }

        public func finish(success: Bool) {
            let first = outcome.withLock { value -> Bool in
                guard value == nil else { return false }
                value = success
                return true
            }
            if first { done.signal() }
        }

        func waitForOutcome() -> Bool {
            done.wait()
            return outcome.withLock { $0 } ?? false
        }
    }

    /// Joins the group and starts the poll thread; the stream ends after `stopPolling()`.
    public func batches() throws -> AsyncStream<Batch> {
        try subscribe()
        let (stream, continuation) = AsyncStream.makeStream(of: Batch.self, bufferingPolicy: .unbounded)
        started.store(true, ordering: .releasing)
        continuation.onTermination = { [self] _ in
            stopPolling()
            outstanding.withLock { $0 }?.finish(success: false)
        }
        let thread = Thread { [self] in
            pollLoop(continuation)
            continuation.finish()
            threadDone.signal()
        }
        thread.name = "kafka-consumer-poll"
        thread.start()
        return stream
    }

    func pollLoop(_ continuation: AsyncStream<Batch>.Continuation) {
        while polling.load(ordering: .acquiring) {
            var messages: [ConsumedMessage] = []
            var timeout: Int32 = 100
            var vanished = false
            while messages.count < maxBatch, let raw = rd_kafka_consumer_poll(handle, timeout) {
                timeout = 0
                defer { rd_kafka_message_destroy(raw) }
                let message = raw.pointee
                if message.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                    // Transient broker and partition errors are reported here; librdkafka
                    // recovers from them by itself, but not from a topic that is gone.
                    vanished = vanished || message.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
                    logger.debug("consumer event", metadata: ["error": "\(KafkaError(message.err))"])
                    continue
                }
                messages.append(Self.copy(raw))
            }
            if vanished { recoverVanishedTopics() }
            guard !messages.isEmpty else { continue }
            let batch = Batch(messages: messages)
            outstanding.withLock { $0 = batch }
            if case .terminated = continuation.yield(batch) { batch.finish(success: false) }
            let succeeded = batch.waitForOutcome()
            outstanding.withLock { $0 = nil }
            if succeeded {
                commit(messages)
            } else {
                // Rewind so the failed batch is read again, from the first message of each partition.
                seekBack(messages)
            }
        }
    }

    /// A topic the member reads from is gone: a broker that restarted without its data
    /// (the development broker keeps it in memory). Its topics are created again from the
    /// registry at once, rather than when a producer next writes to them. librdkafka then
    /// sees the partitions come back and rejoins the group by itself; the fresh assignment
    /// reads from the group's committed offsets, which went with the broker too, so from
    /// the start of the new logs.
    ///
    /// The member does not unsubscribe and subscribe again here: its LeaveGroup raced its
    /// own JoinGroup still held by the broker, and tansu kept the member that left as the
    /// group's leader, which never assigned anything (the group stalled for good).
    func recoverVanishedTopics() {
        guard ContinuousClock.now - lastRecovery > .seconds(3) else { return }
        lastRecovery = .now
        logger.warning("a subscribed topic is gone (did the broker restart without its data?); creating it again")
        let declared = Topics.all.filter { topics.contains($0.name) }
        do {
            if !declared.isEmpty { try TopicAdmin.create(declared, brokers: brokers, timeoutMs: 5000) }
        } catch {
            logger.warning("could not create the topics again", metadata: ["error": "\(error)"])
        }
    }

    static func copy(_ raw: UnsafeMutablePointer<rd_kafka_message_t>) -> ConsumedMessage {
        let message = raw.pointee
        let topic = String(cString: rd_kafka_topic_name(message.rkt))
        let key = message.key.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: message.key_len), as: UTF8.self) } ?? ""
        let value = message.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: message.len)) } ?? []
        var headers: [String: String] = [:]
        var list: OpaquePointer?
        if rd_kafka_message_headers(raw, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list {
            var index = 0
            var name: UnsafePointer<CChar>?
            var bytes: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(list, index, &name, &bytes, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                if let name {
                    let text = bytes.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: size), as: UTF8.self) } ?? ""
                    headers[String(cString: name)] = text
                }
                index += 1
            }
        }
        return ConsumedMessage(topic: topic, partition: message.partition, offset: message.offset, key: key, value: value, headers: headers)
    }

    /// Commits, per partition, the offset after the last message of the batch.
    func commit(_ messages: [ConsumedMessage]) {
        var next: [String: [Int32: Int64]] = [:]
        for message in messages { next[message.topic, default: [:]][message.partition] = message.offset + 1 }
        withPartitionList(next) { list in
            let err = rd_kafka_commit(handle, list, 0)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                logger.warning("offset commit failed; the batch may be redelivered", metadata: ["error": "\(KafkaError(err))"])
            }
        }
    }

    func seekBack(_ messages: [ConsumedMessage]) {
        var first: [String: [Int32: Int64]] = [:]
        for message in messages.reversed() { first[message.topic, default: [:]][message.partition] = message.offset }
        withPartitionList(first) { list in
            if let error = rd_kafka_seek_partitions(handle, list, 5000) {
                logger.warning("seek failed", metadata: ["error": "\(String(cString: rd_kafka_error_string(error)))"])
                rd_kafka_error_destroy(error)
            }
        }
    }

    func withPartitionList(_ offsets: [String: [Int32: Int64]], _ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> Void) {
        guard let list = rd_kafka_topic_partition_list_new(Int32(offsets.count)) else { return }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for (topic, partitions) in offsets {
            for (partition, offset) in partitions {
                rd_kafka_topic_partition_list_add(list, topic, partition)?.pointee.offset = offset
            }
        }
        body(list)
    }

    /// Stops fetching new batches; the batch in flight still finishes and commits.
    public func stopPolling() {
        polling.store(false, ordering: .releasing)
    }

    /// How long leaving the group may take before the handle is destroyed without it.
    static let closeDeadline: Duration = .seconds(5)

    /// Leaves the group and destroys the handle, after the poll thread has stopped. The
    /// leave is bounded: against a broker that lost the group (a restart of an in-memory
    /// broker) `rd_kafka_consumer_close` was seen to block for over 30 minutes, and with it
    /// the service's shutdown. Past the deadline the group learns of the departure from the
    /// session timeout instead.
    public func close() async {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        stopPolling()
        await onDedicatedThread { [self] in
            if started.load(ordering: .acquiring) { threadDone.wait() }
            alive.withLock { $0 = false }
            let left = leaveGroup(within: Self.closeDeadline)
            if !left { logger.warning("leaving the consumer group timed out; closing without it") }
            // Destroying joins librdkafka's threads, which a broker that lost the group can
            // keep busy too: past the deadline the handle is abandoned to its thread (the
            // process is usually on its way out) rather than holding up the shutdown.
            let destroyed = DispatchSemaphore(value: 0)
            Thread { [self] in
                rd_kafka_destroy_flags(handle, left ? 0 : RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE)
                destroyed.signal()
            }.start()
            if destroyed.wait(timeout: .now() + .seconds(5)) == .timedOut {
                logger.warning("destroying the consumer timed out; abandoning its handle")
            }
        }
    }

    /// The asynchronous close, served until it is done or the deadline passes.
    func leaveGroup(within limit: Duration) -> Bool {
        guard let queue = rd_kafka_queue_new(handle) else { return false }
        defer { rd_kafka_queue_destroy(queue) }
        if let error = rd_kafka_consumer_close_queue(handle, queue) {
            rd_kafka_error_destroy(error)
            return false
        }
        let deadline = ContinuousClock.now + limit
        while rd_kafka_consumer_closed(handle) == 0 {
            guard ContinuousClock.now < deadline else { return false }
            guard let event = rd_kafka_queue_poll(queue, 100) else { continue }
            // The close hands the revocation to this queue: serving it (an empty assignment)
            // is what lets the close go on to leave the group.
            if rd_kafka_event_type(event) == RD_KAFKA_EVENT_REBALANCE { rd_kafka_assign(handle, nil) }
            rd_kafka_event_destroy(event)
        }
        return true
    }
}

/// Where a consumer group is on one partition. `highWatermark` is the one the broker
/// returned with the last fetch (librdkafka caches it), not a ListOffsets answer.
public struct PartitionPosition: Sendable, Equatable, Codable {
    public var topic: String
    public var partition: Int32
    /// The group's committed offset (the next one it will read); nil before its first commit.
    public var committed: Int64?
    /// The first offset the partition still holds; nil before the first fetch.
    public var logStart: Int64?
    /// The offset after the partition's last message; nil before the first fetch.
    public var highWatermark: Int64?

    /// Messages not yet consumed and committed; nil while the watermark is unknown.
    public var lag: Int64? {
        guard let highWatermark else { return nil }
        return max(0, highWatermark - (committed ?? logStart ?? 0))
    }
}

extension KafkaConsumer {
    /// The positions of the partitions assigned to this member. Asks the broker for the
    /// committed offsets (up to 2 s), so call it off the request path.
    public func positions() async -> [PartitionPosition] {
        await onDedicatedThread { [self] in
            alive.withLock { alive in alive ? assignedPositions() : [] }
        }
    }

    private func assignedPositions() -> [PartitionPosition] {
        var assigned: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        guard rd_kafka_assignment(handle, &assigned) == RD_KAFKA_RESP_ERR_NO_ERROR, let assigned else { return [] }
        defer { rd_kafka_topic_partition_list_destroy(assigned) }
        let committedKnown = rd_kafka_committed(handle, assigned, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR
        var positions: [PartitionPosition] = []
        for index in 0..<Int(assigned.pointee.cnt) {
            let element = assigned.pointee.elems[index]
            let topic = String(cString: element.topic)
            var low: Int64 = -1
            var high: Int64 = -1
            let cached = rd_kafka_get_watermark_offsets(handle, topic, element.partition, &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR
            positions.append(
                PartitionPosition(
                    topic: topic, partition: element.partition,
                    committed: committedKnown && element.offset >= 0 ? element.offset : nil,
                    logStart: cached && low >= 0 ? low : nil,
                    highWatermark: cached && high >= 0 ? high : nil))
        }
        return positions.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }
}

/// `RD_KAFKA_PARTITION_UA` is a macro Swift cannot import.
let RD_KAFKA_PARTITION_UA_VALUE: Int32 = -1
