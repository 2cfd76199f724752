import Dispatch
import Foundation
import Logging

/// Trains a tenant's models from what its stores hold: ALS from the interaction log, the
/// reranker from the impressions "for you" logged and what users then did.
struct ModelTraining: Sendable {
    let models: ModelStore
    let impressions: ImpressionStore

    func train(_ kind: ModelCard.Kind, tenant: UUID, logger: Logger) async throws {
        let saved: ModelCard
        switch kind {
        case .als:
            let data = try await models.trainingData(tenant: tenant, now: Date())
            guard !data.entries.isEmpty else { return }
            let parameters = ImplicitALS.Parameters().fitted(users: data.users.count, items: data.items.count)
            let started = Date()
            let model = await Self.offPool { ImplicitALS.train(data.matrix, parameters) }
            saved = try await models.save(model, of: data, parameters: parameters, seconds: Date().timeIntervalSince(started), tenant: tenant)
        case .reranker:
            let (pairs, users, items) = try await impressions.trainingPairs(tenant: tenant, now: Date())
            guard !pairs.isEmpty else { return }
            let started = Date()
            let training = await Self.offPool { PairwiseReranker.train(pairs: pairs) }
            saved = try await models.save(training, users: users, items: items, seconds: Date().timeIntervalSince(started), tenant: tenant)
        }
        logger.info(
            "model trained",
            metadata: [
                "tenant_id": "\(tenant)", "kind": "\(kind.rawValue)", "version": "\(saved.version)", "users": "\(saved.users)",
                "items": "\(saved.items)", "seconds": "\(saved.trainingSeconds)",
            ])
    }

    /// Seconds of synchronous CPU work: on a Dispatch thread, so the cooperative pool's few
    /// threads keep serving requests meanwhile.
    static func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { done in DispatchQueue.global(qos: .utility).async { done.resume(returning: work()) } }
    }
}
