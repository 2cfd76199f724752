import Foundation
import Hummingbird
import ServiceKit

/// `POST /v1/experience/events`: a batch of interactions. Each event stands alone: the
/// good ones are recorded, a repeat of an event id is counted and skipped, and the rest
/// come back with the field and reason they were refused for.
struct EventRoutes: RouteGroup {
    let store: InteractionStore
    let cache: HomeCache

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let events = router.group("v1/experience/events").add(
            middleware: AuthenticationMiddleware(verifier: verifier, clients: ClientAccess.experience))
        events.post { request, context in try await record(request, context) }
    }

    func record(_ request: Request, _ context: ServiceRequestContext) async throws -> InteractionBatchResult {
        let identity = try context.requireIdentity()
        let input = try await request.decodeJSON(InteractionBatchInput.self, context: context, maxSize: 2 << 20)
        var v = Validator()
        v.check(!input.events.isEmpty, "events", "must hold at least one event")
        v.check(input.events.count <= InteractionRules.maxBatch, "events", "at most \(InteractionRules.maxBatch) per request")
        try v.finish()
        let now = Date()
        let user = identity.isAPIClient ? nil : identity.subject
        var rejected: [InteractionBatchResult.Rejection] = []
        var checked: [(index: Int, interaction: Interaction)] = []
        for (index, event) in input.events.enumerated() {
            switch InteractionRules.check(event, user: user, now: now) {
            case .success(let interaction): checked.append((index, interaction))
            case .failure(let refusal):
                rejected.append(.init(index: index, eventId: event.eventId, field: refusal.field, reason: refusal.reason))
            }
        }
        // Unknown items are found in the recording transaction: one round of it per batch.
        let recorded = try await store.record(checked.map(\.interaction), tenant: identity.tenantID)
        var onItems = 0
        for (index, interaction) in checked {
            if recorded.unknownItems.contains(interaction.itemKey) {
                rejected.append(.init(index: index, eventId: interaction.eventId, field: "itemKey", reason: "names no item of this tenant"))
            } else {
                onItems += 1
            }
        }
        cache.forget(tenant: identity.tenantID, users: Set(recorded.interactions.map(\.userKey)))
        return InteractionBatchResult(
            accepted: recorded.interactions.count, duplicates: onItems - recorded.interactions.count,
            rejected: rejected.sorted { $0.index < $1.index })
    }
}

extension InteractionBatchResult: ResponseEncodable {}
