import ArgumentParser
import Contracts
import Foundation
import Hummingbird
import Jobs
import Messaging
import Persistence
import ServiceKit

/// Builds the tasks service.
func buildTasks(_ configuration: ServiceConfiguration, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
    let runtime = try ServiceRuntime(configuration: configuration, schema: TasksProgram.name, migrations: try TasksProgram.migrations())
    let verifier = runtime.tokenVerifier()
    let router = Router<ServiceRequestContext>.service(readiness: runtime.readiness)
    TaskRoutes(store: TaskStore(database: runtime.database)).add(to: router, verifier: verifier)
    FilterRoutes(store: FilterStore(database: runtime.database)).add(to: router, verifier: verifier)
    ProjectRoutes(store: ProjectStore(database: runtime.database)).add(to: router, verifier: verifier)
    TemplateRoutes(store: TemplateStore(database: runtime.database, tasks: TaskStore(database: runtime.database))).add(to: router, verifier: verifier)
    JobAdminRoutes(store: JobAdminStore(database: runtime.database)).add(to: router, verifier: verifier)
    let membership = MembershipConsumer(store: TaskStore(database: runtime.database))
    let members = try runtime.consumer(group: MembershipConsumer.group, topics: [Topics.authMembership]) { event in
        try await membership.handle(event)
    }
    let worker = JobWorker(
        database: runtime.database, registry: TaskJobs.registry(database: runtime.database), crons: try TaskJobs.crons(),
        configuration: TaskJobs.configuration, logger: runtime.logger)
    return runtime.application(router: router, extra: [runtime.afterMigrations(worker), members], onServerRunning: onServerRunning)
}

enum TasksProgram: ServiceProgram {
    static let name = "tasks"
    static func migrations() throws -> [Migration] { JobTables.migrations(schema: name) + (try ServiceRuntime.migrations(in: .module)) }
    static func configuration() throws -> ServiceConfiguration { try .fromEnvironment(name: name, defaultPort: 8082) }
    static func serve(migrate: Bool) async throws {
        var configuration = try configuration()
        configuration.migrateOnStart = migrate
        try await buildTasks(configuration).runService()
    }
}

@main
struct TasksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tasks", abstract: "Projects and tasks.", subcommands: [ServeCommand<TasksProgram>.self, MigrateCommand<TasksProgram>.self],
        defaultSubcommand: ServeCommand<TasksProgram>.self)
}
