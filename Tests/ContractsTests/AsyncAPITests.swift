import Contracts
import Foundation
import Testing

/// Reads `address:` and `name:` lines of asyncapi.yaml: enough to hold the document and
/// the registry together without a YAML dependency.
struct AsyncAPIDocument {
    var addresses: Set<String> = []
    var messageNames: Set<String> = []

    init(_ text: String) {
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("address: ") { addresses.insert(String(trimmed.dropFirst("address: ".count))) }
            if trimmed.hasPrefix("name: ") { messageNames.insert(String(trimmed.dropFirst("name: ".count))) }
        }
    }
}

@Suite("AsyncAPI document")
struct AsyncAPITests {
    let document: AsyncAPIDocument

    init() throws {
        document = AsyncAPIDocument(try String(contentsOf: contractsFolder.appendingPathComponent("asyncapi.yaml"), encoding: .utf8))
    }

    @Test("declares exactly the registry's topics")
    func topics() {
        #expect(document.addresses == Set(Topics.all.map(\.name)))
    }

    @Test("declares exactly the registry's event types")
    func eventTypes() {
        #expect(document.messageNames == Set(Topics.all.flatMap(\.eventTypes)))
    }

    @Test("topic names follow <owner>.<entity>.v<major> and are owned by a known service")
    func naming() {
        for topic in Topics.all where !topic.name.hasPrefix("dlq.") {
            let parts = topic.name.split(separator: ".")
            #expect(parts.count == 3 && parts[0] == topic.owner && parts[2].hasPrefix("v"), "\(topic.name)")
            #expect(Topics.services.contains(topic.owner))
            #expect(topic.eventTypes.allSatisfy { $0.hasPrefix(topic.owner + ".") })
        }
    }
}

@Suite("Kubernetes topics")
struct KubernetesTopicTests {
    @Test("infra/k8s/base/topics.yaml is what `contracts topics --format strimzi` prints from the registry")
    func matchRegistry() throws {
        let committed = try String(
            contentsOf: contractsFolder.deletingLastPathComponent().appendingPathComponent("infra/k8s/base/topics.yaml"), encoding: .utf8)
        #expect(committed == StrimziTopics.yaml(), "run: swift run contracts topics --format strimzi > infra/k8s/base/topics.yaml")
    }

    @Test("every registry topic is a KafkaTopic with its partitions and cleanup policy")
    func everyTopic() {
        let yaml = StrimziTopics.yaml()
        for topic in Topics.all {
            #expect(yaml.contains("  topicName: \(topic.name)\n  partitions: \(topic.partitions)\n"))
            #expect(yaml.contains("  name: \(topic.name.replacingOccurrences(of: ".", with: "-"))\n"))
        }
        #expect(yaml.components(separatedBy: "kind: KafkaTopic").count - 1 == Topics.all.count)
    }
}
