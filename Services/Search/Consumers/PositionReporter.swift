import Foundation
import Logging
import Messaging
import Metrics
import ServiceLifecycle

/// Every few seconds: the partitions this replica's index consumers hold, as rows any
/// replica's health route can read (their lag as a metric: ServiceHost's `consumer_lag`).
struct PositionReporter: Service {
    let consumers: [KafkaConsumer]
    let group: String
    let store: HealthStore
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                var positions: [PartitionPosition] = []
                for consumer in consumers { positions += await consumer.positions() }
                do {
                    try await store.record(consumer: group, positions)
                    Gauge(label: "search_reindexes_replaying").record(Double(try await store.replayingReindexes()))
                } catch {
                    logger.debug("could not record consumer positions", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
