import ArgumentParser
import Foundation
import Hummingbird
import Messaging
import ServiceKit

/// Until its issue is done the notifications service only migrates, relays and answers health.
func buildNotifications(_ configuration: ServiceConfiguration, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
    try ServiceRuntime.operationalOnly(configuration, schema: "notifications", bundle: .module, onServerRunning: onServerRunning)
}

@main
struct NotificationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "notifications", abstract: "Email, webhooks, in-app inbox, push.")

    func run() async throws {
        try await buildNotifications(try .fromEnvironment(name: "notifications", defaultPort: 8085)).runService()
    }
}
