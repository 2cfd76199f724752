import ArgumentParser
import Foundation
import Logging
import Persistence
import ServiceKit

/// What the `serve` and `migrate` subcommands need of a service.
public protocol ServiceProgram {
    /// The executable's name, its schema's and its configuration's.
    static var name: String { get }
    /// The schema's migrations as this build knows them (the platform's come first anyway).
    static func migrations() throws -> [Migration]
    /// The common configuration, read from the environment (`migrate` needs the database).
    static func configuration() throws -> ServiceConfiguration
    /// Builds the service and runs it until SIGTERM.
    static func serve(migrate: Bool) async throws
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
