import ServiceContextModule
import Tracing

/// The statements a store function sends in one go, a transaction or a single statement,
/// named for that function: "TaskStore.create" says more on call than SQL text would, and
/// holds no data.
struct StatementBatch {
    let name: String

    init(function: String, fileID: String) {
        let file = fileID.split(separator: "/").last.map { $0.split(separator: ".").first ?? $0 } ?? ""
        let function = function.split(separator: "(").first ?? ""
        name = file.isEmpty ? String(function) : "\(file).\(function)"
    }
}

extension Database {
    /// Runs `body` in a client span of the trace under way. Work outside any trace (the
    /// relay's polling, a worker's claims, start-up) gets no span: a root span per poll would
    /// bury the traces that matter.
    func withSpan<T>(
        _ batch: StatementBatch, isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T
    ) async throws -> T {
        guard let context = ServiceContextModule.ServiceContext.current else { return try await body() }
        return try await Tracing.withSpan(batch.name, context: context, ofKind: .client) { span in
            span.attributes["db.system.name"] = "postgresql"
            span.attributes["db.namespace"] = schema
            return try await body()
        }
    }
}
