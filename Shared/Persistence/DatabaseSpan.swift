import ServiceContextModule
import Tracing

extension Database {
    /// Runs `body` in a client span of the trace under way, named for the store function that
    /// sends the statements, a transaction or a single one: "TaskStore.create" says more on
    /// call than SQL text would, and holds no data. Work outside any trace (the relay's
    /// polling, a worker's claims, start-up) gets no span: a root span per poll would bury the
    /// traces that matter.
    func withStatementSpan<T>(
        function: String, fileID: String, isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T
    ) async throws -> T {
        guard let context = ServiceContextModule.ServiceContext.current else { return try await body() }
        let file = fileID.split(separator: "/").last.map { $0.split(separator: ".").first ?? $0 } ?? ""
        let function = function.split(separator: "(").first ?? ""
        return try await Tracing.withSpan(file.isEmpty ? String(function) : "\(file).\(function)", context: context, ofKind: .client) { span in
            span.attributes["db.system.name"] = "postgresql"
            span.attributes["db.namespace"] = schema
            return try await body()
        }
    }
}
