import ArgumentParser
import Foundation
import Hummingbird
import Messaging
import ServiceKit

/// Builds the notifications service. Until its issue is done it migrates its schema, runs the
/// outbox relay and answers the operational routes, nothing else.
func buildNotifications(_ configuration: ServiceConfiguration, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
    let runtime = try ServiceRuntime(configuration: configuration, schema: "notifications", migrations: try ServiceRuntime.migrations(in: .module))
    let router = Router<ServiceRequestContext>.service(readiness: runtime.readiness)
    return runtime.application(router: router, onServerRunning: onServerRunning)
}

@main
struct NotificationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "notifications", abstract: "Email, webhooks, in-app inbox, push.")

    func run() async throws {
        try await buildNotifications(try .fromEnvironment(name: "notifications", defaultPort: 8085)).runService()
    }
}
