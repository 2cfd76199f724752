import Contracts
import Foundation
import Messaging

/// Turns domain events into webhook messages: `{"type", "timestamp", "data"}` with the
/// event's own payload as data, stored once per event and tenant.
///
/// Duplicates: idempotency key (the event id, unique per tenant among webhook messages).
struct WebhookFeed: BatchHandling {
    static let group = "notifications.webhooks"
    /// The topics whose events tenants may subscribe to.
    static let sources = [Topics.tasksTask, Topics.photomlSession]
    var topics: [Topic] { Self.sources }
    let store: WebhookStore

    /// A batch of events, one statement per tenant.
    func handle(_ events: [EventEnvelope]) async throws {
        let formatter = ISO8601DateFormatter()
        var byTenant: [UUID: [WebhookStore.Incoming]] = [:]
        for event in events {
            let type = String(decoding: try JSONEncoder().encode(event.type), as: UTF8.self)
            let body =
                "{\"type\":\(type),\"timestamp\":\"\(formatter.string(from: event.time))\",\"data\":\(String(decoding: event.data, as: UTF8.self))}"
            byTenant[event.tenantID, default: []].append(WebhookStore.Incoming(eventID: event.id, type: event.type, body: body))
        }
        for (tenant, incoming) in byTenant { try await store.fanOut(incoming, tenant: tenant) }
    }
}
