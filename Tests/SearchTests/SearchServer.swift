import Contracts
import Foundation
@testable import Search
import TestSupport

/// One search service for the suite (with its consumer of tasks.task.v1), trusting a test issuer.
struct SearchServer {
    static let shared = SearchServer()
    private let started = StartOnce<(String, TestIssuer)> {
        let issuer = try await TestIssuer.start()
        let configuration = TestEnvironment.configuration("search", jwksURL: issuer.jwksURL)
        let server = try await TestServer.start { try buildSearch(configuration, onServerRunning: $0) }
        return (server.baseURL, issuer)
    }

    func get() async throws -> (url: String, issuer: TestIssuer) {
        let (url, issuer) = try await started.value()
        return (url, issuer)
    }
}

func taskChanged(tenant: UUID, task: UUID = .v7(), title: String, description: String? = nil, version: Int = 1) throws -> EventEnvelope {
    let payload = TaskChanged(
        taskId: task, tenantId: tenant, projectId: nil, parentId: nil, title: title, description: description, status: "todo",
        priority: 1, tags: ["searchtest"], dueAt: nil, assigneeId: nil, version: version, occurredAt: Date())
    return try .make(payload, type: version == 1 ? TaskChanged.created : TaskChanged.updated, on: Topics.tasksTask, source: "/tests", tenantID: tenant)
}

func search(_ query: String, tenant: UUID) async throws -> HTTPAnswer {
    let (url, issuer) = try await SearchServer.shared.get()
    return try await TestHTTP.send("GET", "\(url)/v1/search?\(query)", token: try await issuer.token(tenant: tenant, roles: ["viewer"]))
}

func hitTitles(_ answer: HTTPAnswer) -> [String] {
    (answer.json["hits"] as? [[String: Any]] ?? []).compactMap { $0["title"] as? String }
}
