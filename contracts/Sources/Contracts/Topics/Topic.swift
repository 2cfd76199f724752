/// A Kafka topic as the platform declares it. The registry (`Topics.all`) is the one
/// source for topic creation, the AsyncAPI document and the Kubernetes KafkaTopics.
public struct Topic: Sendable, Hashable {
    public enum Key: String, Sendable {
        /// Keyed by the entity id: ordering per entity, compacted to the latest state.
        case entityID = "entity id"
        /// Keyed by tenant id: commands, ordering per tenant.
        case tenantID = "tenant id"
    }

    public enum CleanupPolicy: String, Sendable {
        case compact
        case delete
    }

    public let name: String
    /// The only service allowed to produce to an entity topic; for a command topic, the
    /// service that consumes the commands.
    public let owner: String
    public let key: Key
    public let partitions: Int
    public let cleanupPolicy: CleanupPolicy
    public let eventTypes: [String]

    public init(name: String, owner: String, key: Key, partitions: Int, cleanupPolicy: CleanupPolicy, eventTypes: [String]) {
        self.name = name
        self.owner = owner
        self.key = key
        self.partitions = partitions
        self.cleanupPolicy = cleanupPolicy
        self.eventTypes = eventTypes
    }

    /// `dlq.<service>`: where a service's consumers put messages that keep failing.
    public static func deadLetter(for service: String) -> Topic {
        Topic(name: "dlq.\(service)", owner: service, key: .tenantID, partitions: 1, cleanupPolicy: .delete, eventTypes: [])
    }
}
