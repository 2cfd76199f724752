import ArgumentParser
import Foundation
import Hummingbird
import Messaging
import ServiceKit

/// Builds the campaigns service. Until its issue is done it migrates its schema, runs the
/// outbox relay and answers the operational routes, nothing else.
func buildCampaigns(_ configuration: ServiceConfiguration, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
    let runtime = try ServiceRuntime(configuration: configuration, schema: "campaigns", migrations: try ServiceRuntime.migrations(in: .module))
    let router = Router<ServiceRequestContext>.service(readiness: runtime.readiness)
    return runtime.application(router: router, onServerRunning: onServerRunning)
}

@main
struct CampaignsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "campaigns", abstract: "Email campaigns.")

    func run() async throws {
        try await buildCampaigns(try .fromEnvironment(name: "campaigns", defaultPort: 8086)).runService()
    }
}
