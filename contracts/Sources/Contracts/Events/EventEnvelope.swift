import Foundation

/// A payload type that belongs on one topic under one or more CloudEvents types.
public protocol EventPayload: Codable, Sendable, Equatable {
    /// The id the message is keyed by (entity id, or tenant id for commands).
    var key: String { get }
    /// CloudEvents `subject`: what the event is about.
    var subject: String { get }
    /// The tenant the payload speaks of; it must be the envelope's (`ce_tenantid`).
    var tenantId: UUID { get }
}

/// A payload naming another tenant than its envelope: never applied (retrying cannot fix it).
public struct TenantMismatch: Error, CustomStringConvertible {
    public var description: String { "payload tenant differs from ce_tenantid" }
}

/// A CloudEvents 1.0 event: attributes travel as Kafka headers (binary content mode,
/// CloudEvents Kafka binding §3.2), `data` as the JSON message body.
public struct EventEnvelope: Sendable, Equatable {
    public var id: UUID
    public var type: String
    /// The producing service, e.g. `/services/tasks`.
    public var source: String
    public var time: Date
    public var subject: String
    public var tenantID: UUID
    public var traceparent: String?
    public var key: String
    public var topic: String
    public var data: Data

    public init(
        id: UUID, type: String, source: String, time: Date, subject: String, tenantID: UUID, traceparent: String?, key: String, topic: String,
        data: Data
    ) {
        self.id = id
        self.type = type
        self.source = source
        self.time = time
        self.subject = subject
        self.tenantID = tenantID
        self.traceparent = traceparent
        self.key = key
        self.topic = topic
        self.data = data
    }

    public struct UnknownEventType: Error, CustomStringConvertible {
        public let type: String
        public let topic: String
        public var description: String { "\(type) is not an event type of \(topic)" }
    }

    /// Builds the envelope for a payload. `type` must be one of the topic's event types.
    public static func make<P: EventPayload>(
        _ payload: P, type: String, on topic: Topic, source: String, tenantID: UUID,
        id: UUID = UUID(), time: Date = Date(), traceparent: String? = nil
    ) throws -> EventEnvelope {
        guard topic.eventTypes.contains(type) || topic.eventTypes.isEmpty else { throw UnknownEventType(type: type, topic: topic.name) }
        return EventEnvelope(
            id: id, type: type, source: source, time: time, subject: payload.subject, tenantID: tenantID,
            traceparent: traceparent, key: payload.key, topic: topic.name, data: try PlatformJSON.encoder.encode(payload)
        )
    }

    /// The payload, checked against the envelope's tenant: every consumer reads payloads
    /// through here, so none can apply one tenant's event to another's data.
    public func decode<P: EventPayload>(_ type: P.Type) throws -> P {
        let payload = try PlatformJSON.decoder.decode(P.self, from: data)
        guard payload.tenantId == tenantID else { throw TenantMismatch() }
        return payload
    }

    /// The CloudEvents attributes as Kafka headers.
    public var headers: [(String, String)] {
        var result = [
            ("ce_specversion", "1.0"),
            ("ce_id", id.uuidString.lowercased()),
            ("ce_type", type),
            ("ce_source", source),
            ("ce_time", RFC3339.string(from: time)),
            ("ce_subject", subject),
            ("ce_tenantid", tenantID.uuidString.lowercased()),
            ("content-type", "application/json"),
        ]
        if let traceparent { result.append(("traceparent", traceparent)) }
        return result
    }

    public enum HeaderError: Error, CustomStringConvertible {
        case missing(String)
        case invalid(String)
        public var description: String {
            switch self {
            case .missing(let name): "missing CloudEvents header \(name)"
            case .invalid(let name): "invalid CloudEvents header \(name)"
            }
        }
    }

    /// Reads an envelope back from Kafka headers and body.
    public init(topic: String, key: String, headers: [String: String], data: Data) throws {
        func required(_ name: String) throws -> String {
            guard let value = headers[name], !value.isEmpty else { throw HeaderError.missing(name) }
            return value
        }
        guard try required("ce_specversion") == "1.0" else { throw HeaderError.invalid("ce_specversion") }
        guard let id = UUID(uuidString: try required("ce_id")) else { throw HeaderError.invalid("ce_id") }
        guard let time = RFC3339.date(from: try required("ce_time")) else { throw HeaderError.invalid("ce_time") }
        guard let tenant = UUID(uuidString: try required("ce_tenantid")) else { throw HeaderError.invalid("ce_tenantid") }
        self.init(
            id: id, type: try required("ce_type"), source: try required("ce_source"), time: time,
            subject: headers["ce_subject"] ?? "", tenantID: tenant, traceparent: headers["traceparent"],
            key: key, topic: topic, data: data
        )
    }
}
