import Logging
import Messaging
import Metrics
import ServiceLifecycle

/// Every 15 s, how far each of this replica's consumer groups is behind on each partition it
/// holds, as `consumer_lag{group, topic, partition}` (messages not yet consumed and committed).
struct ConsumerLagReporter: Service {
    let consumers: [(group: String, consumer: KafkaConsumer)]
    let interval: Duration = .seconds(15)

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            for (group, consumer) in consumers {
                for position in await consumer.positions() {
                    guard let lag = position.lag else { continue }
                    Gauge(
                        label: "consumer_lag", dimensions: [("group", group), ("topic", position.topic), ("partition", String(position.partition))]
                    )
                    .record(Double(lag))
                }
            }
            try? await Task.sleep(for: interval)
        }
    }
}
