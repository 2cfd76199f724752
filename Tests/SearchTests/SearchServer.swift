import Contracts
import Foundation
import Persistence
import TestSupport

@testable import Search

/// One search service for the suite (with its consumer of tasks.task.v1), trusting a test issuer.
struct SearchServer {
    static let shared = SearchServer()
    private let started = StartOnce<(String, TestIssuer)> {
        let issuer = try await TestIssuer.start()
        let configuration = TestEnvironment.configuration("search", jwksURL: issuer.jwksURL)
        let server = try await TestServer.start { try searchHost(configuration, retries: fastRetries).application(onServerRunning: $0) }
        return (server.baseURL, issuer)
    }

    func get() async throws -> (url: String, issuer: TestIssuer) {
        let (url, issuer) = try await started.value()
        return (url, issuer)
    }
}

/// Failed writes retried 3 times, 200 ms apart, so a test sees a document dead-lettered.
let fastRetries = IndexRetries(maxAttempts: 3, delay: { _ in .milliseconds(200) })

/// An indexer like the server's (same retry kind), writing through the test's own pool.
func testIndexer(_ database: Database) -> Indexer {
    Indexer(database: database, retryKind: SearchJobs.indexDocument(maxAttempts: fastRetries.maxAttempts, retryDelay: fastRetries.delay))
}

func adminGET(_ path: String, tenant: UUID, roles: [String] = ["admin"]) async throws -> HTTPAnswer {
    let (url, issuer) = try await SearchServer.shared.get()
    return try await TestHTTP.send("GET", "\(url)\(path)", token: try await issuer.token(tenant: tenant, roles: roles))
}

func adminPOST(_ path: String, tenant: UUID, json: [String: Any] = [:], roles: [String] = ["admin"], scope: String = "") async throws -> HTTPAnswer {
    let (url, issuer) = try await SearchServer.shared.get()
    return try await TestHTTP.send("POST", "\(url)\(path)", json: json, token: try await issuer.token(tenant: tenant, roles: roles, scope: scope))
}

func taskChanged(
    tenant: UUID, task: UUID = .v7(), title: String, description: String? = nil, status: String = "todo", version: Int = 1,
    createdBy: UUID? = nil, assignee: UUID? = nil, visibility: String? = nil
) throws -> EventEnvelope {
    let payload = TaskChanged(
        taskId: task, tenantId: tenant, projectId: nil, parentId: nil, title: title, description: description, status: status,
        priority: 1, tags: ["searchtest"], dueAt: nil, assigneeId: assignee, version: version, occurredAt: Date(), createdBy: createdBy,
        visibility: visibility)
    return try .make(
        payload, type: version == 1 ? TaskChanged.created : TaskChanged.updated, on: Topics.tasksTask, source: "/tests", tenantID: tenant)
}

func search(_ query: String, tenant: UUID, user: UUID = .v7()) async throws -> HTTPAnswer {
    let (url, issuer) = try await SearchServer.shared.get()
    return try await TestHTTP.send(
        "GET", "\(url)/v1/search?\(query)", token: try await issuer.token(tenant: tenant, subject: user, roles: ["viewer"]))
}

func hitTitles(_ answer: HTTPAnswer) -> [String] {
    (answer.json["hits"] as? [[String: Any]] ?? []).compactMap { $0["title"] as? String }
}
