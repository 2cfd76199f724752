import ArgumentParser
import Foundation
import Hummingbird
import Messaging
import ServiceKit

/// Until its issue is done the campaigns service only migrates, relays and answers health.
func buildCampaigns(_ configuration: ServiceConfiguration, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
    try ServiceRuntime.operationalOnly(configuration, schema: "campaigns", bundle: .module, onServerRunning: onServerRunning)
}

@main
struct CampaignsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "campaigns", abstract: "Email campaigns.")

    func run() async throws {
        try await buildCampaigns(try .fromEnvironment(name: "campaigns", defaultPort: 8086)).runService()
    }
}
