import ArgumentParser
import Foundation
import Hummingbird
import Messaging
import ServiceKit

/// Until its issue is done the experience service only migrates, relays and answers health.
func buildExperience(_ configuration: ServiceConfiguration, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
    try ServiceRuntime.operationalOnly(configuration, schema: "experience", bundle: .module, onServerRunning: onServerRunning)
}

@main
struct ExperienceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "experience", abstract: "Interaction events, recommendations, personalisation.")

    func run() async throws {
        try await buildExperience(try .fromEnvironment(name: "experience", defaultPort: 8083)).runService()
    }
}
