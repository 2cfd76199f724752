import ArgumentParser
import Foundation
import Hummingbird
import Messaging
import ServiceKit

/// Builds the tasks service.
func buildTasks(_ configuration: ServiceConfiguration, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
    let runtime = try ServiceRuntime(configuration: configuration, schema: "tasks", migrations: try ServiceRuntime.migrations(in: .module))
    let verifier = runtime.tokenVerifier()
    let router = Router<ServiceRequestContext>.service(readiness: runtime.readiness)
    TaskRoutes(store: TaskStore(database: runtime.database)).add(to: router, verifier: verifier)
    return runtime.application(router: router, onServerRunning: onServerRunning)
}

@main
struct TasksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tasks", abstract: "Projects and tasks.")

    func run() async throws {
        try await buildTasks(try .fromEnvironment(name: "tasks", defaultPort: 8082)).runService()
    }
}
