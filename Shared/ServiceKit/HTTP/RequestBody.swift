import Contracts
import Foundation
import Hummingbird

extension Request {
    /// Decodes a JSON body, answering malformed JSON with 400 and a body of the wrong
    /// shape (missing field, wrong type) with 422 naming the field.
    public func decodeJSON<T: Decodable>(_ type: T.Type, context: some RequestContext, maxSize: Int = 1 << 20) async throws -> T {
        guard let decoded = try await decodeOptionalJSON(type, context: context, maxSize: maxSize) else {
            throw Problem.badRequest("The request body is empty; a JSON object is expected.")
        }
        return decoded
    }

    /// The same for a body that may be left out: nil when it is empty.
    public func decodeOptionalJSON<T: Decodable>(_ type: T.Type, context: some RequestContext, maxSize: Int = 1 << 20) async throws -> T? {
        let buffer: ByteBuffer
        do {
            buffer = try await self.body.collect(upTo: maxSize)
        } catch {
            throw Problem(status: .contentTooLarge, detail: "The request body is larger than \(maxSize) bytes.")
        }
        guard buffer.readableBytes > 0 else { return nil }
        if NULCharacter.isEscaped(inJSON: buffer) { throw Problem.badRequest("JSON strings must not contain NUL (U+0000) characters.") }
        do {
            return try PlatformJSON.decoder.decode(T.self, from: Data(buffer: buffer))
        } catch let error as DecodingError {
            throw Problem(decoding: error)
        }
    }
}

extension Problem {
    /// Maps a JSON decoding failure to 400 (not JSON at all) or 422 (JSON of the wrong shape).
    public init(decoding error: DecodingError) {
        func path(_ codingPath: [any CodingKey], _ key: (any CodingKey)? = nil) -> String {
            let keys = codingPath + (key.map { [$0] } ?? [])
            return keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
                .replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            self = .badRequest("The request body is not valid JSON.")
        case .dataCorrupted(let context):
            self = .validation([.init(field: path(context.codingPath), message: "has an invalid value")])
        case .keyNotFound(let key, let context):
            self = .validation([.init(field: path(context.codingPath, key), message: "is required")])
        case .typeMismatch(let type, let context):
            if context.codingPath.isEmpty {
                self = .badRequest("The request body must be a JSON object.")
            } else {
                self = .validation([.init(field: path(context.codingPath), message: "must be of type \(Self.jsonTypeName(type))")])
            }
        case .valueNotFound(let type, let context):
            self = .validation([.init(field: path(context.codingPath), message: "must be a \(Self.jsonTypeName(type)), not null")])
        @unknown default:
            self = .badRequest("The request body could not be read.")
        }
    }

    static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type, is UUID.Type, is Date.Type: "string"
        case is Int.Type, is Double.Type, is Int64.Type: "number"
        case is Bool.Type: "boolean"
        default: type is any Collection.Type ? "array" : "object"
        }
    }
}
