/// A field of a JSON merge patch (RFC 7396): absent, explicitly null, or a value.
public enum PatchField<Value: Decodable & Sendable>: Sendable {
    case absent
    case null
    case value(Value)
}

extension KeyedDecodingContainer {
    public func patch<V: Decodable & Sendable>(_ key: Key) throws -> PatchField<V> {
        guard contains(key) else { return .absent }
        if try decodeNil(forKey: key) { return .null }
        return .value(try decode(V.self, forKey: key))
    }
}
