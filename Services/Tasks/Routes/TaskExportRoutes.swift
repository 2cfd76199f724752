import Contracts
import Foundation
import Hummingbird
import NIOCore
import ServiceKit

/// `GET /v1/tasks/export?format=csv|json`: every live task of the tenant, oldest first,
/// streamed in pages of 500 so memory stays flat however many tasks there are.
extension TaskRoutes {
    static let exportPage = 500

    func export(_ request: Request, _ context: ServiceRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let format = request.queryItems["format"] ?? "json"
        guard format == "csv" || format == "json" else { throw Problem.validation([.init(field: "format", message: "must be csv or json")]) }
        let store = self.store
        let tenant = identity.tenantID
        var query = try TaskQuery([:])
        query.sort = .oldest
        let frozenQuery = query
        let body = ResponseBody { writer in
            var cursor: TaskStore.ListPosition?
            var first = true
            try await writer.write(ByteBuffer(string: format == "csv" ? TaskCSV.header : "["))
            repeat {
                let page = try await store.list(tenant: tenant, query: frozenQuery, after: cursor, limit: Self.exportPage)
                var chunk = ""
                for (task, _) in page {
                    if format == "csv" {
                        chunk += TaskCSV.row(task)
                    } else {
                        chunk += (first ? "\n" : ",\n") + String(decoding: try PlatformJSON.encoder.encode(task), as: UTF8.self)
                        first = false
                    }
                }
                if !chunk.isEmpty { try await writer.write(ByteBuffer(string: chunk)) }
                cursor = page.count == Self.exportPage ? page.last?.1 : nil
            } while cursor != nil
            if format == "json" { try await writer.write(ByteBuffer(string: "\n]\n")) }
            try await writer.finish(nil)
        }
        let stamp = ISO8601DateFormatter().string(from: Date()).prefix(10)
        return Response(
            status: .ok,
            headers: [
                .contentType: format == "csv" ? "text/csv; charset=utf-8" : "application/json",
                .contentDisposition: "attachment; filename=\"tasks-\(stamp).\(format)\"",
            ], body: body)
    }
}
