import Contracts
import Foundation
import Persistence
import PostgresNIO
import ServiceKit

/// The one way a service dead-letters: to `dlq.<service>` through its outbox, so a broker
/// outage delays a dead letter and never loses it, and a handler's dead letter commits with
/// its other effects. Every dead letter carries `dlq_error`, `dlq_topic` and `dlq_consumer`;
/// a replay command reads them back.
public struct DeadLetters: Sendable {
    public let database: Database
    public let service: String

    public init(database: Database, service: String) {
        self.database = database
        self.service = service
    }

    /// A copy of `event`, in the caller's transaction. It keeps the event's id unless the
    /// outbox still holds that id (a dead letter of it before); then it takes `fallbackID`.
    public func record(
        _ event: EventEnvelope, error: String, fallbackID: UUID = .v7(), extraHeaders: [(String, String)] = [], on connection: PostgresConnection
    ) async throws {
        let outbox = Outbox(schema: database.schema)
        let id = try await outbox.contains(event.id, on: connection) ? fallbackID : event.id
        let copy = EventEnvelope(
            id: id, type: event.type, source: event.source, time: event.time, subject: event.subject, tenantID: event.tenantID,
            traceparent: event.traceparent, key: event.key, topic: Topic.deadLetter(for: service).name, data: event.data)
        try await outbox.append(copy, extraHeaders: headers(error: error, topic: event.topic) + extraHeaders, on: connection)
    }

    /// A message as it came off its topic, in a transaction of its own. One that is not a
    /// CloudEvent keeps its bytes and its headers (as `dlq_header_<name>`); its envelope is
    /// made up (type `dlq.unreadable`, the system tenant unless it named one).
    public func record(_ message: ConsumedMessage, error: String) async throws {
        let position = [("dlq_partition", String(message.partition)), ("dlq_offset", String(message.offset))]
        try await database.withTransaction { connection in
            if let event = try? EventEnvelope(topic: message.topic, key: message.key, headers: message.headers, data: Data(message.value)) {
                try await record(event, error: error, extraHeaders: position, on: connection)
                return
            }
            let tenant =
                message.headers["ce_tenantid"].flatMap(UUID.init(uuidString:)) ?? UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
            let made = EventEnvelope(
                id: .v7(), type: "dlq.unreadable", source: "/\(service)/dlq", time: Date(), subject: message.topic, tenantID: tenant,
                traceparent: nil, key: message.key, topic: Topic.deadLetter(for: service).name, data: Data(message.value))
            let original = message.headers.sorted { $0.key < $1.key }.map { ("dlq_header_\($0.key)", $0.value) }
            try await Outbox(schema: database.schema).append(
                made, extraHeaders: headers(error: error, topic: message.topic) + position + original, on: connection)
        }
    }

    func headers(error: String, topic: String) -> [(String, String)] {
        [("dlq_error", String(error.prefix(1000))), ("dlq_topic", topic), ("dlq_consumer", service), ("dlq_at", RFC3339.string(from: Date()))]
    }

    /// The message a dead letter was made from, to produce again to its topic: the value, and
    /// the headers it came with (a CloudEvent's `ce_*`, or the `dlq_header_*` of one that was
    /// not). Nil for a notice that carries no payload (a message the broker refused).
    public static func original(of letter: ConsumedMessage) -> OutgoingMessage? {
        guard let topic = letter.headers["dlq_topic"], letter.headers["dlq_payload"] == nil else { return nil }
        var headers: [(String, String)] = []
        for (name, value) in letter.headers.sorted(by: { $0.key < $1.key }) {
            if name.hasPrefix("dlq_header_") {
                headers.append((String(name.dropFirst("dlq_header_".count)), value))
            } else if !name.hasPrefix("dlq_") && letter.headers["ce_type"] != "dlq.unreadable" {
                headers.append((name, value))
            }
        }
        return OutgoingMessage(topic: topic, key: letter.key, value: letter.value, headers: headers)
    }
}
