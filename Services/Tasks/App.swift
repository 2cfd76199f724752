import ArgumentParser
import Contracts
import Foundation
import Hummingbird
import Jobs
import Messaging
import Persistence
import ServiceHost
import ServiceKit

/// Builds the tasks service.
func tasksHost(_ configuration: ServiceConfiguration) throws -> ServiceHost {
    let host = try ServiceHost(TasksProgram.self, configuration: configuration)
    let database = host.database
    host.routes(TaskRoutes(store: TaskStore(database: database)))
    host.routes(FilterRoutes(store: FilterStore(database: database)))
    host.routes(ProjectRoutes(store: ProjectStore(database: database)))
    host.routes(TemplateRoutes(store: TemplateStore(database: database, tasks: TaskStore(database: database))))
    host.routes(JobAdminRoutes(store: JobAdminStore(database: database)))
    try host.consume(MembershipConsumer(store: TaskStore(database: database)))
    try host.jobs(TaskJobs(database: database))
    return host
}

enum TasksProgram: ServiceProgram {
    static let name = "tasks"
    static func migrations() throws -> [Migration] { JobTables.migrations(schema: name) + (try ServiceHost.migrations(in: .module)) }
    static func configuration() throws -> ServiceConfiguration { try .fromEnvironment(name: name, defaultPort: 8082) }
    static func serve(migrate: Bool) async throws {
        var configuration = try configuration()
        configuration.migrateOnStart = migrate
        try await tasksHost(configuration).run()
    }
}

@main
struct TasksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tasks", abstract: "Projects and tasks.",
        subcommands: [ServeCommand<TasksProgram>.self, MigrateCommand<TasksProgram>.self, DeadLetterCommand<TasksProgram>.self],
        defaultSubcommand: ServeCommand<TasksProgram>.self)
}
