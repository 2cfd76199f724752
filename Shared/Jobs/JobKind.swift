import Foundation
import Logging

/// A kind of job: its name, where it runs and how it is retried. `Arguments` is stored as
/// JSON in the job row.
public struct JobKind<Arguments: Codable & Sendable>: Sendable {
    public let name: String
    public var queue: String
    public var priority: Int
    public var maxAttempts: Int
    public var timeout: Duration
    /// At most this many starts per second on each worker process; nil: unlimited.
    public var ratePerSecond: Double?
    /// At most this many starts per second for one tenant on each worker process (e.g. by
    /// the tenant's plan); nil for a tenant: unlimited. A job over its tenant's rate goes
    /// back to the queue until its turn, without spending an attempt or holding a slot.
    public var tenantRate: (@Sendable (UUID) -> Double?)?
    /// How long after a failed attempt (1, 2, ...) the job runs again.
    public var retryDelay: @Sendable (Int) -> Duration

    public init(
        _ name: String, queue: String = "default", priority: Int = 2, maxAttempts: Int = 20, timeout: Duration = .seconds(60),
        ratePerSecond: Double? = nil, tenantRate: (@Sendable (UUID) -> Double?)? = nil,
        retryDelay: @escaping @Sendable (Int) -> Duration = Backoff.delay(afterAttempt:)
    ) {
        self.tenantRate = tenantRate
        self.name = name
        self.queue = queue
        self.priority = priority
        self.maxAttempts = maxAttempts
        self.timeout = timeout
        self.ratePerSecond = ratePerSecond
        self.retryDelay = retryDelay
    }
}

/// What a handler knows about the job it runs.
public struct JobContext: Sendable {
    public let id: Int64
    public let tenantID: UUID
    public let kind: String
    public let attempt: Int
    public let maxAttempts: Int
    public var logger: Logger

    /// Delivery is at least once: a job may run again after a crash. Side effects keyed
    /// by this (e.g. a notification's idempotency key) happen once.
    public var idempotencyKey: String { "job-\(id)" }
}

/// Handlers by kind name, as the worker runs them.
public struct JobRegistry: Sendable {
    struct Entry: Sendable {
        var queue: String
        var timeout: Duration
        var ratePerSecond: Double?
        var tenantRate: (@Sendable (UUID) -> Double?)?
        var retryDelay: @Sendable (Int) -> Duration
        var run: @Sendable (_ arguments: Data, _ context: JobContext) async throws -> Void
    }

    private(set) var entries: [String: Entry] = [:]

    public init() {}

    public mutating func register<Arguments>(
        _ kind: JobKind<Arguments>, handler: @escaping @Sendable (Arguments, JobContext) async throws -> Void
    ) {
        entries[kind.name] = Entry(
            queue: kind.queue, timeout: kind.timeout, ratePerSecond: kind.ratePerSecond, tenantRate: kind.tenantRate, retryDelay: kind.retryDelay
        ) { data, context in
            let arguments: Arguments
            do {
                arguments = try JSONDecoder.jobs.decode(Arguments.self, from: data)
            } catch {
                throw JobFailure.undecodableArguments(kind.name, "\(error)")
            }
            try await handler(arguments, context)
        }
    }

    subscript(kind: String) -> Entry? { entries[kind] }
}

enum JobFailure: JobReportable {
    case undecodableArguments(String, String)
    case unknownKind(String)
    case timedOut(Duration)

    var description: String {
        switch self {
        case .undecodableArguments(let kind, let error): "arguments of \(kind) cannot be decoded: \(error)"
        case .unknownKind(let kind): "no handler for job kind \(kind) on this worker"
        case .timedOut(let limit): "timed out after \(limit)"
        }
    }
}

extension JSONEncoder {
    static let jobs: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()
}

extension JSONDecoder {
    static let jobs: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}
