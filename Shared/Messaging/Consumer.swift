import Contracts

/// A consumer the host runs for one event at a time: retried, then dead-lettered on its
/// own (`EventConsumer`). Its doc comment states its duplicate rule (inbox, version guard
/// or idempotency key).
public protocol EventHandling: Sendable {
    /// The consumer group; every replica joins it.
    static var group: String { get }
    var topics: [Topic] { get }
    func handle(_ event: EventEnvelope) async throws
}

/// A consumer the host runs for whole batches: it answers for single events itself (see
/// `EventConsumer`); if it throws, the batch is read again.
public protocol BatchHandling: Sendable {
    static var group: String { get }
    var topics: [Topic] { get }
    /// Most events handed over at once.
    var maxBatch: Int { get }
    func handle(_ events: [EventEnvelope]) async throws
}

extension BatchHandling {
    public var maxBatch: Int { 500 }
}
