import ArgumentParser
import Foundation
import Hummingbird
import Messaging
import ServiceKit

/// Until its issue is done the photoml service only migrates, relays and answers health.
func buildPhotoML(_ configuration: ServiceConfiguration, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
    try ServiceRuntime.operationalOnly(configuration, schema: "photoml", bundle: .module, onServerRunning: onServerRunning)
}

@main
struct PhotoMLCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "photoml", abstract: "Photo upload and sliced detection.")

    func run() async throws {
        try await buildPhotoML(try .fromEnvironment(name: "photoml", defaultPort: 8087)).runService()
    }
}
