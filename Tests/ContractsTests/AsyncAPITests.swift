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
    struct Declared: Equatable {
        var name = ""
        var partitions = 0
        var cleanupPolicy = ""
    }

    /// The KafkaTopic resources of infra/k8s/base/topics.yaml, read line by line.
    static func declared() throws -> [Declared] {
        let text = try String(
            contentsOf: contractsFolder.deletingLastPathComponent().appendingPathComponent("infra/k8s/base/topics.yaml"), encoding: .utf8)
        return text.components(separatedBy: "---\n").map { block in
            var topic = Declared()
            for line in block.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                if line.hasPrefix("topicName: ") { topic.name = String(line.dropFirst("topicName: ".count)) }
                if line.hasPrefix("partitions: ") { topic.partitions = Int(line.dropFirst("partitions: ".count)) ?? 0 }
                if line.hasPrefix("cleanup.policy: ") { topic.cleanupPolicy = String(line.dropFirst("cleanup.policy: ".count)) }
            }
            return topic
        }
    }

    @Test("declare exactly the registry's topics with its partitions and cleanup policies")
    func matchRegistry() throws {
        let expected = Topics.all.map { Declared(name: $0.name, partitions: $0.partitions, cleanupPolicy: $0.cleanupPolicy.rawValue) }
        #expect(try Self.declared().sorted { $0.name < $1.name } == expected.sorted { $0.name < $1.name })
    }
}
