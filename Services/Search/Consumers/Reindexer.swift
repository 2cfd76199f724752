import Contracts
import Foundation
import Jobs
import Logging
import Messaging
import Synchronization

/// The reindex job: replays the source topics from the beginning with a consumer group
/// of the run's own into the run's building generation, while the live indexer keeps
/// writing both generations. When every partition has reached the high watermark the
/// broker reported on the replay's first fetch of it, everything written before the run
/// started is in the new generation, and the switch is made.
struct Reindexer: Sendable {
    let store: ReindexStore
    let indexer: Indexer
    let brokers: String
    let logger: Logger

    struct NotCaughtUp: JobReportable {
        var description: String { "the replay stopped before it caught up; the job resumes it" }
    }

    /// After the job's last attempt the run is marked failed and its building generation
    /// dropped, so the live indexer stops writing it and a new reindex may start.
    func run(_ arguments: ReindexArguments, context: JobContext) async throws {
        do {
            try await replay(arguments, context: context)
        } catch {
            if context.attempt >= context.maxAttempts, !(error is CancellationError) {
                try await store.fail(arguments.reindexId, error: String(describing: error))
            }
            throw error
        }
    }

    private func replay(_ arguments: ReindexArguments, context: JobContext) async throws {
        guard let run = try await store.run(arguments.reindexId), run.state == "replaying" else { return }
        let topics = indexer.topics
        let partitions = topics.reduce(0) { $0 + $1.partitions }
        let consumer = try KafkaConsumer(
            brokers: brokers, groupID: "search.reindex.\(run.id.uuidString.lowercased())", topics: topics.map(\.name), logger: logger,
            maxBatch: 2000)
        let replay = Replay()
        let batches = try consumer.batches()
        do {
            try await withTaskCancellationHandler {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        while !Task.isCancelled {
                            let positions = replay.positions(await consumer.positions())
                            if positions.count == partitions, positions.allSatisfy(Self.reached) {
                                replay.caughtUp.store(true, ordering: .releasing)
                                consumer.stopPolling()
                                return
                            }
                            try await store.progress(run.id, events: 0, positions: positions)
                            try await Task.sleep(for: .milliseconds(250))
                        }
                    }
                    for await batch in batches {
                        var applied = false
                        defer { batch.finish(success: applied) }
                        // Messages that are not CloudEvents were dead-lettered by the live consumer.
                        let events = batch.messages.compactMap { try? EventConsumer.envelope($0) }
                        try await indexer.apply(events, reindex: run.id, tenant: run.tenantId)
                        applied = true
                        try await store.progress(run.id, events: events.count, positions: [])
                    }
                    try await group.waitForAll()
                }
            } onCancel: {
                consumer.stopPolling()
            }
        } catch {
            await consumer.close()
            throw error
        }
        await consumer.close()
        guard replay.caughtUp.load(ordering: .acquiring) else { throw NotCaughtUp() }
        try await store.switchOver(run.id)
        context.logger.info("reindex switched", metadata: ["reindex": "\(run.id)", "tenant": "\(run.tenantId?.uuidString ?? "all")"])
    }

    static func reached(_ position: ReindexStore.ReplayPosition) -> Bool {
        guard let target = position.target, let at = position.position else { return false }
        return at >= target
    }
}

/// What a replay knows as it goes: each partition's target, whether it caught up.
final class Replay: Sendable {
    let targets = Mutex<[String: Int64]>([:])
    let caughtUp = Atomic<Bool>(false)

    /// Each partition's position and target: the first high watermark seen for it.
    func positions(_ positions: [PartitionPosition]) -> [ReindexStore.ReplayPosition] {
        positions.map { position in
            let name = "\(position.topic)/\(position.partition)"
            let target = targets.withLock { known -> Int64? in
                if known[name] == nil, let high = position.highWatermark { known[name] = high }
                return known[name]
            }
            return ReindexStore.ReplayPosition(
                topic: position.topic, partition: position.partition, position: position.committed ?? position.logStart, target: target)
        }
    }
}
