import ArgumentParser
import Foundation
import Hummingbird
import Messaging
import ServiceKit

/// Builds the photoml service. Until its issue is done it migrates its schema, runs the
/// outbox relay and answers the operational routes, nothing else.
func buildPhotoML(_ configuration: ServiceConfiguration, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
    let runtime = try ServiceRuntime(configuration: configuration, schema: "photoml", migrations: try ServiceRuntime.migrations(in: .module))
    let router = Router<ServiceRequestContext>.service(readiness: runtime.readiness)
    return runtime.application(router: router, onServerRunning: onServerRunning)
}

@main
struct PhotoMLCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "photoml", abstract: "Photo upload and sliced detection.")

    func run() async throws {
        try await buildPhotoML(try .fromEnvironment(name: "photoml", defaultPort: 8087)).runService()
    }
}
