import Foundation

// UUIDs in JSON are lower-case everywhere (RFC 9562 §4: output in lower case), in HTTP
// bodies and event payloads alike. Foundation writes `uuidString`, which is upper-case; these
// overloads are more specific than the generic `encode`, so every synthesized `Encodable`
// conformance in a module that imports Contracts picks them. Input keeps accepting both cases
// (UUID's own decoding).
extension KeyedEncodingContainer {
    public mutating func encode(_ value: UUID, forKey key: Key) throws {
        try encode(value.uuidString.lowercased(), forKey: key)
    }

    public mutating func encodeIfPresent(_ value: UUID?, forKey key: Key) throws {
        try encodeIfPresent(value?.uuidString.lowercased(), forKey: key)
    }

    public mutating func encode(_ value: [UUID], forKey key: Key) throws {
        try encode(value.map { $0.uuidString.lowercased() }, forKey: key)
    }

    public mutating func encodeIfPresent(_ value: [UUID]?, forKey key: Key) throws {
        try encodeIfPresent(value?.map { $0.uuidString.lowercased() }, forKey: key)
    }
}

extension SingleValueEncodingContainer {
    public mutating func encode(_ value: UUID) throws {
        try encode(value.uuidString.lowercased())
    }
}
