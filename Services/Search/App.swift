import ArgumentParser
import Contracts
import Foundation
import Hummingbird
import Messaging
import ServiceKit

/// Builds the search service: the index consumer and the query route.
func buildSearch(_ configuration: ServiceConfiguration, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
    let runtime = try ServiceRuntime(configuration: configuration, schema: "search", migrations: try ServiceRuntime.migrations(in: .module))
    let indexer = Indexer(database: runtime.database)
    let consumer = try runtime.consumer(group: Indexer.group, topics: indexer.topics) { event in
        try await indexer.handle(event)
    }
    let router = Router<ServiceRequestContext>.service(readiness: runtime.readiness)
    SearchRoutes(documents: DocumentStore(database: runtime.database)).add(to: router, verifier: runtime.tokenVerifier())
    return runtime.application(router: router, extra: [consumer], onServerRunning: onServerRunning)
}

@main
struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "search", abstract: "Per-tenant search index.")

    func run() async throws {
        try await buildSearch(try .fromEnvironment(name: "search", defaultPort: 8084)).runService()
    }
}
