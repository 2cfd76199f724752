import Contracts
import Foundation
import Logging
import ServiceLifecycle

/// Keeps the tenant directory current from `auth.tenant.v1`. Each replica reads the
/// compacted topic from the beginning with a consumer group of its own, so a new replica
/// rebuilds the whole directory and every replica sees every change.
///
/// Duplicates: version guard (the directory keeps a tenant's newest version).
public struct TenantFeed: Service {
    let brokers: String
    let directory: TenantDirectory
    /// Names this replica's own consumer group (`<service>-<random>`).
    let service: String
    let logger: Logger

    public init(brokers: String, directory: TenantDirectory, service: String, logger: Logger) {
        self.brokers = brokers
        self.directory = directory
        self.service = service
        self.logger = logger
    }

    public func run() async throws {
        // Auth creates its topics too; whichever starts first makes sure it exists.
        try await TopicAdmin.ensure([Topics.authTenant], brokers: brokers)
        let consumer = try KafkaConsumer(
            brokers: brokers, groupID: "\(service)-\(UUID().uuidString.lowercased())", topics: [Topics.authTenant.name], logger: logger)
        let batches = try consumer.batches()
        await withGracefulShutdownHandler {
            for await batch in batches {
                for message in batch.messages {
                    do {
                        directory.apply(try PlatformJSON.decoder.decode(TenantEvent.self, from: Data(message.value)))
                    } catch {
                        logger.warning("unreadable auth.tenant.v1 message skipped", metadata: ["offset": "\(message.offset)", "error": "\(error)"])
                    }
                }
                batch.finish(success: true)
            }
        } onGracefulShutdown: {
            consumer.stopPolling()
        }
        await consumer.close()
    }
}
