import ArgumentParser
import Foundation
import Hummingbird
import Messaging
import ServiceKit

/// Builds the experience service. Until its issue is done it migrates its schema, runs the
/// outbox relay and answers the operational routes, nothing else.
func buildExperience(_ configuration: ServiceConfiguration, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
    let runtime = try ServiceRuntime(configuration: configuration, schema: "experience", migrations: try ServiceRuntime.migrations(in: .module))
    let router = Router<ServiceRequestContext>.service(readiness: runtime.readiness)
    return runtime.application(router: router, onServerRunning: onServerRunning)
}

@main
struct ExperienceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "experience", abstract: "Interaction events, recommendations, personalisation.")

    func run() async throws {
        try await buildExperience(try .fromEnvironment(name: "experience", defaultPort: 8083)).runService()
    }
}
