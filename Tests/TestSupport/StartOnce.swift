/// Starts something once for a whole test run, however many tests ask at the same time.
/// (An actor alone is not enough: callers arriving while the first start is suspended
/// would start their own.)
public actor StartOnce<Value: Sendable> {
    private var task: Task<Value, any Error>?
    private let start: @Sendable () async throws -> Value

    public init(_ start: @escaping @Sendable () async throws -> Value) {
        self.start = start
    }

    public func value() async throws -> Value {
        if let task { return try await task.value }
        let task = Task { try await start() }
        self.task = task
        return try await task.value
    }
}
