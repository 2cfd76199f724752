import ArgumentParser
import Foundation
import Hummingbird
import Messaging
import Persistence
import ServiceHost
import ServiceKit

/// Until its issue is done the photoml service only migrates, relays and answers health.
func photoMLHost(_ configuration: ServiceConfiguration) throws -> ServiceHost {
    try ServiceHost(PhotoMLProgram.self, configuration: configuration)
}

enum PhotoMLProgram: ServiceProgram {
    static let name = "photoml"
    static func migrations() throws -> [Migration] { try ServiceHost.migrations(in: .module) }
    static func configuration() throws -> ServiceConfiguration { try .fromEnvironment(name: name, defaultPort: 8087) }
    static func serve(migrate: Bool) async throws {
        var configuration = try configuration()
        configuration.migrateOnStart = migrate
        try await photoMLHost(configuration).run()
    }
}

@main
struct PhotoMLCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "photoml", abstract: "Photo upload and sliced detection.",
        subcommands: [ServeCommand<PhotoMLProgram>.self, MigrateCommand<PhotoMLProgram>.self, DeadLetterCommand<PhotoMLProgram>.self],
        defaultSubcommand: ServeCommand<PhotoMLProgram>.self)
}
