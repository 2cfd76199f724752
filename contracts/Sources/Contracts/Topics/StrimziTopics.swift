/// The registry's topics as Strimzi `KafkaTopic` resources: what `contracts topics --format
/// strimzi` prints and infra/k8s/base/topics.yaml holds (a test keeps the two equal).
public enum StrimziTopics {
    /// Replicas of every partition, and how many must have a write before it is acknowledged.
    public static let replicas = 3
    public static let minInSyncReplicas = 2
    /// Event topics that delete keep a week; compacted ones keep each key's latest; dead
    /// letters keep the broker's default, as long as operators set it.
    public static let retentionMilliseconds = 7 * 24 * 3600 * 1000

    public static func yaml(_ topics: [Topic] = Topics.all, cluster: String = "platform") -> String {
        topics.map { topic in
            var config = ["    cleanup.policy: \(topic.cleanupPolicy.rawValue)"]
            if topic.cleanupPolicy == .delete, !topic.name.hasPrefix("dlq.") {
                config.append("    retention.ms: \"\(retentionMilliseconds)\"")
            }
            config.append("    min.insync.replicas: \(minInSyncReplicas)")
            return """
                apiVersion: kafka.strimzi.io/v1beta2
                kind: KafkaTopic
                metadata:
                  name: \(topic.name.replacingOccurrences(of: ".", with: "-"))
                  labels:
                    strimzi.io/cluster: \(cluster)
                spec:
                  topicName: \(topic.name)
                  partitions: \(topic.partitions)
                  replicas: \(replicas)
                  config:

                """ + config.joined(separator: "\n") + "\n"
        }
        .joined(separator: "---\n")
    }
}
