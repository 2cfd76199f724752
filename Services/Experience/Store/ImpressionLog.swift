import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Impressions gathered in memory and written once a second per tenant, off the feed's path.
/// A crash loses at most a second of them: they are training data, not counts.
final class ImpressionLog: Service, Sendable {
    private let store: ImpressionStore
    private let logger: Logger
    private let pending = Mutex<[UUID: [ImpressionStore.Impression]]>([:])
    /// Beyond this many waiting, new impressions are dropped (the database is behind).
    static let capacity = 100_000

    init(store: ImpressionStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    func add(_ impressions: [ImpressionStore.Impression], tenant: UUID) {
        guard !impressions.isEmpty else { return }
        pending.withLock { pending in
            guard pending.values.reduce(0, { $0 + $1.count }) < Self.capacity else { return }
            pending[tenant, default: []] += impressions
        }
    }

    /// Writes what is waiting now.
    func flush() async {
        let batch = pending.withLock { pending in
            let taken = pending
            pending = [:]
            return taken
        }
        for (tenant, impressions) in batch {
            do {
                try await store.record(impressions, tenant: tenant)
            } catch {
                logger.warning(
                    "impressions not recorded", metadata: ["tenant_id": "\(tenant)", "count": "\(impressions.count)", "error": "\(error)"])
            }
        }
    }

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: .seconds(1))
            await flush()
        }
        await flush()
    }
}
