import ArgumentParser
import Contracts
import Foundation
import Logging
import Messaging
import Persistence
import ServiceKit
import Synchronization

/// What the `serve` and `migrate` subcommands need of a service.
public protocol ServiceProgram {
    /// The executable's name, its schema's and its configuration's.
    static var name: String { get }
    /// Where the gateway routes the service's public API (`v1/tasks`); its OpenAPI document
    /// is served there too.
    static var publicPrefix: String { get }
    /// The schema's migrations as this build knows them (the platform's come first anyway).
    static func migrations() throws -> [Migration]
    /// The common configuration, read from the environment (`migrate` needs the database).
    static func configuration() throws -> ServiceConfiguration
    /// Builds the service and runs it until SIGTERM.
    static func serve(migrate: Bool) async throws
}

extension ServiceProgram {
    public static var publicPrefix: String { "v1/\(name)" }
}

/// `serve [--no-migrate]`: apply migrations, then serve. Deployments that run `migrate` as a
/// Job before the rollout pass `--no-migrate`: the service then waits until they are applied.
public struct ServeCommand<Program: ServiceProgram>: AsyncParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "serve", abstract: "Apply the schema's migrations (unless --no-migrate) and serve HTTP.")
    }

    @Flag(name: .customLong("no-migrate"), help: "Do not apply migrations; wait until `migrate` has applied them.")
    var noMigrate = false

    public init() {}

    public func run() async throws {
        MallocArenas.limit()
        try await Program.serve(migrate: !noMigrate)
    }
}

/// `migrate`: apply the schema's migrations and exit (a Kubernetes Job before a rollout).
public struct MigrateCommand<Program: ServiceProgram>: AsyncParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "migrate", abstract: "Apply the schema's migrations and exit.")
    }

    public init() {}

    public func run() async throws {
        let configuration = try Program.configuration()
        Observability.bootstrapLogging(level: configuration.logLevel)
        let logger = Logger(label: "\(Program.name).migrate")
        let database = try Database(
            url: configuration.databaseURL, schema: Program.name, logger: logger, maxConnections: 1, tls: configuration.databaseTLS)
        let migrations = try Program.migrations()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.client.run() }
            defer { group.cancelAll() }
            let migrator = Migrator(database: database)
            let pending = try await migrator.pending(migrations)
            try await migrator.migrate(migrations)
            print(pending.isEmpty ? "\(Program.name): the schema is up to date" : "\(Program.name): applied \(pending.joined(separator: ", "))")
        }
    }
}

/// `dlq replay --topic T [--since TIME] [--dry-run]`: the dead letters of `dlq.<service>`
/// that came from topic T (since TIME, RFC 3339), produced to T again as they first came.
/// Consumers are idempotent (inbox, version guard or idempotency key), so replaying one
/// twice does no harm.
public struct DeadLetterCommand<Program: ServiceProgram>: AsyncParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "dlq", abstract: "Dead letters of this service.", subcommands: [Replay.self])
    }

    public init() {}

    public struct Replay: AsyncParsableCommand {
        public static var configuration: CommandConfiguration {
            CommandConfiguration(abstract: "Produce the dead letters of a topic to it again.")
        }

        @Option(help: "The topic the dead letters came from.")
        var topic: String

        @Option(help: "Only dead letters from this time on (RFC 3339).")
        var since: String?

        @Flag(help: "Count what would be replayed; produce nothing.")
        var dryRun = false

        @Option(help: "Stop once no dead letter has arrived for this many seconds.")
        var idleSeconds = 5

        public init() {}

        public func validate() throws {
            if let since, RFC3339.date(from: since) == nil { throw ValidationError("--since must be an RFC 3339 time, e.g. 2026-12-01T00:00:00Z") }
        }

        public func run() async throws {
            let configuration = try Program.configuration()
            Observability.bootstrapLogging(level: configuration.logLevel)
            let logger = Logger(label: "\(Program.name).dlq")
            let from = since.flatMap(RFC3339.date(from:))
            let consumer = try KafkaConsumer(
                brokers: configuration.kafkaBrokers, groupID: "\(Program.name).dlq-replay.\(UUID().uuidString.lowercased())",
                topics: [Topic.deadLetter(for: Program.name).name], logger: logger)
            let producer = try KafkaProducer(brokers: configuration.kafkaBrokers, clientID: "\(Program.name)-dlq-replay", logger: logger)
            var replayed = 0
            var skipped = 0
            let batches = try consumer.batches()
            let idle = Duration.seconds(idleSeconds)
            let activity = Activity()
            let watchdog = Task {
                // No batch for `idle` after the first: everything there was has been read. Joining
                // the group takes seconds, so the first batch gets a minute (an empty topic too).
                var waited = Duration.zero
                while !Task.isCancelled, activity.batches.load(ordering: .relaxed) == 0, waited < .seconds(60) {
                    try? await Task.sleep(for: .milliseconds(200))
                    waited += .milliseconds(200)
                }
                while !Task.isCancelled {
                    let before = activity.batches.load(ordering: .relaxed)
                    try? await Task.sleep(for: idle)
                    if activity.batches.load(ordering: .relaxed) == before { consumer.stopPolling() }
                }
            }
            for await batch in batches {
                activity.batches.add(1, ordering: .relaxed)
                for letter in batch.messages {
                    guard letter.headers["dlq_topic"] == topic,
                        from.map({ from in letter.headers["dlq_at"].flatMap(RFC3339.date(from:)).map { $0 >= from } ?? false }) ?? true,
                        let original = DeadLetters.original(of: letter)
                    else {
                        skipped += 1
                        continue
                    }
                    if !dryRun { try await producer.send(original) }
                    replayed += 1
                }
                batch.finish(success: true)
            }
            watchdog.cancel()
            await consumer.close()
            await producer.shutdown()
            print("\(Program.name): \(dryRun ? "would replay" : "replayed") \(replayed) dead letters to \(topic); \(skipped) others left")
        }
    }
}

/// Batches seen by a replay, for its idle watchdog.
final class Activity: Sendable {
    let batches = Atomic<Int>(0)
}
