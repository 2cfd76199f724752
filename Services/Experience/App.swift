import ArgumentParser
import Foundation
import Hummingbird
import Messaging
import Persistence
import ServiceHost
import ServiceKit

/// Until its issue is done the experience service only migrates, relays and answers health.
func experienceHost(_ configuration: ServiceConfiguration) throws -> ServiceHost {
    try ServiceHost(ExperienceProgram.self, configuration: configuration)
}

enum ExperienceProgram: ServiceProgram {
    static let name = "experience"
    static func migrations() throws -> [Migration] { try ServiceHost.migrations(in: .module) }
    static func configuration() throws -> ServiceConfiguration { try .fromEnvironment(name: name, defaultPort: 8083) }
    static func serve(migrate: Bool) async throws {
        var configuration = try configuration()
        configuration.migrateOnStart = migrate
        try await experienceHost(configuration).run()
    }
}

@main
struct ExperienceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experience", abstract: "Interaction events, recommendations, personalisation.",
        subcommands: [ServeCommand<ExperienceProgram>.self, MigrateCommand<ExperienceProgram>.self, DeadLetterCommand<ExperienceProgram>.self],
        defaultSubcommand: ServeCommand<ExperienceProgram>.self)
}
