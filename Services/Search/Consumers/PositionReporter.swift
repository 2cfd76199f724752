import Foundation
import Logging
import Messaging
import Metrics
import ServiceLifecycle

/// Every few seconds: this replica's partitions of the index consumer, as lag gauges and
/// as rows any replica's health route can read.
struct PositionReporter: Service {
    let consumer: KafkaConsumer
    let group: String
    let store: HealthStore
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let positions = await consumer.positions()
                for position in positions {
                    let dimensions = [("topic", position.topic), ("partition", String(position.partition))]
                    if let lag = position.lag { Gauge(label: "search_consumer_lag", dimensions: dimensions).record(Double(lag)) }
                }
                do {
                    try await store.record(consumer: group, positions)
                } catch {
                    logger.debug("could not record consumer positions", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
