import ArgumentParser
import Contracts

/// `contracts`: the contracts registry for tools outside Swift.
@main
struct ContractsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contracts", abstract: "The platform's contracts registry.", subcommands: [TopicsCommand.self])
}

/// `contracts topics --format strimzi > infra/k8s/base/topics.yaml`.
struct TopicsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "topics", abstract: "Every Kafka topic of the registry.")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case strimzi, names
    }

    @Option(help: "strimzi: KafkaTopic resources; names: one topic name a line.") var format: Format = .names
    @Option(help: "The Strimzi Kafka cluster the topics belong to.") var cluster = "platform"

    func run() {
        switch format {
        case .strimzi: print(StrimziTopics.yaml(cluster: cluster), terminator: "")
        case .names: for topic in Topics.all { print(topic.name) }
        }
    }
}
