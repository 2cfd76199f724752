import Contracts
import Foundation
import Logging
import Messaging
import ServiceLifecycle

/// Drops the cached feed of every user another replica recorded an interaction for. Each
/// replica reads `experience.interaction.v1` with a consumer group of its own, from the
/// newest event: a week of the topic is millions of events, and replaying them would hold
/// back every drop behind it. An event published while the group is still joining is
/// missed; the feed it concerned lives at most its minute.
struct CacheInvalidation: Service {
    let brokers: String
    let cache: HomeCache
    let logger: Logger

    func run() async throws {
        try await TopicAdmin.ensure([Topics.experienceInteraction], brokers: brokers)
        let consumer = try KafkaConsumer(
            brokers: brokers, groupID: "experience-cache-\(UUID().uuidString.lowercased())", topics: [Topics.experienceInteraction.name],
            logger: logger, settings: ["auto.offset.reset": "latest"])
        let batches = try consumer.batches()
        await withGracefulShutdownHandler {
            for await batch in batches {
                var users: [UUID: Set<String>] = [:]
                for message in batch.messages {
                    guard let event = try? PlatformJSON.decoder.decode(InteractionRecorded.self, from: Data(message.value)) else {
                        logger.warning("unreadable experience.interaction.v1 message skipped", metadata: ["offset": "\(message.offset)"])
                        continue
                    }
                    users[event.tenantId, default: []].insert(event.userKey)
                }
                for (tenant, keys) in users { cache.forget(tenant: tenant, users: keys) }
                batch.finish(success: true)
            }
        } onGracefulShutdown: {
            consumer.stopPolling()
        }
        await consumer.close()
    }
}
