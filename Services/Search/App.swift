import ArgumentParser
import Contracts
import Foundation
import Hummingbird
import Jobs
import Messaging
import ServiceKit

/// Builds the search service: the index consumer and the query route.
func buildSearch(_ configuration: ServiceConfiguration, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
    let schema = "search"
    let runtime = try ServiceRuntime(
        configuration: configuration, schema: schema, migrations: JobTables.migrations(schema: schema) + (try ServiceRuntime.migrations(in: .module)))
    let indexer = Indexer(database: runtime.database)
    let consumer = try runtime.consumer(group: Indexer.group, topics: indexer.topics) { event in
        try await indexer.handle(event)
    }
    let router = Router<ServiceRequestContext>.service(readiness: runtime.readiness)
    let verifier = runtime.tokenVerifier()
    let analytics = AnalyticsStore(database: runtime.database)
    SearchRoutes(documents: DocumentStore(database: runtime.database), analytics: analytics).add(to: router, verifier: verifier)
    AnalyticsRoutes(store: analytics).add(to: router, verifier: verifier)
    var jobs = JobRegistry()
    jobs.register(SearchJobs.pruneAnalytics) { _, context in
        let deleted = try await analytics.prune()
        context.logger.info("pruned search analytics", metadata: ["queries": "\(deleted)"])
    }
    let worker = JobWorker(database: runtime.database, registry: jobs, crons: try SearchJobs.crons(), logger: runtime.logger)
    JobAdminRoutes(store: JobAdminStore(database: runtime.database), path: "v1/admin/search/jobs").add(to: router, verifier: verifier)
    return runtime.application(router: router, extra: [consumer, runtime.afterMigrations(worker)], onServerRunning: onServerRunning)
}

@main
struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "search", abstract: "Per-tenant search index.")

    func run() async throws {
        try await buildSearch(try .fromEnvironment(name: "search", defaultPort: 8084)).runService()
    }
}
