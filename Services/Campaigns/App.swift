import ArgumentParser
import Foundation
import Hummingbird
import Messaging
import Persistence
import ServiceHost
import ServiceKit

/// Until its issue is done the campaigns service only migrates, relays and answers health.
func campaignsHost(_ configuration: ServiceConfiguration) throws -> ServiceHost {
    try ServiceHost(CampaignsProgram.self, configuration: configuration)
}

enum CampaignsProgram: ServiceProgram {
    static let name = "campaigns"
    static func migrations() throws -> [Migration] { try ServiceHost.migrations(in: .module) }
    static func configuration() throws -> ServiceConfiguration { try .fromEnvironment(name: name, defaultPort: 8086) }
    static func serve(migrate: Bool) async throws {
        var configuration = try configuration()
        configuration.migrateOnStart = migrate
        try await campaignsHost(configuration).run()
    }
}

@main
struct CampaignsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaigns", abstract: "Email campaigns.",
        subcommands: [ServeCommand<CampaignsProgram>.self, MigrateCommand<CampaignsProgram>.self, DeadLetterCommand<CampaignsProgram>.self],
        defaultSubcommand: ServeCommand<CampaignsProgram>.self)
}
