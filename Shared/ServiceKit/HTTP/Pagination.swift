import Foundation
import Hummingbird

/// Cursor pagination: `limit` (1...100, default 50) and an opaque `cursor` that the
/// previous page returned as `nextCursor`.
public struct PageRequest: Sendable {
    public static let maxLimit = 100
    public var limit: Int
    public var cursor: String?

    public init(limit: Int = 50, cursor: String? = nil) {
        self.limit = limit
        self.cursor = cursor
    }

    public init(_ query: [String: String]) throws {
        var validator = Validator()
        var limit = 50
        if let raw = query["limit"] {
            if let value = Int(raw), (1...Self.maxLimit).contains(value) {
                limit = value
            } else {
                validator.add("limit", "must be an integer from 1 to \(Self.maxLimit)")
            }
        }
        try validator.finish()
        self.init(limit: limit, cursor: query["cursor"].flatMap { $0.isEmpty ? nil : $0 })
    }

    /// Decodes a cursor made by `Cursor.encode`, or answers 400.
    public func decodedCursor<T: Codable>(_ type: T.Type) throws -> T? {
        guard let cursor else { return nil }
        guard let value = Cursor.decode(type, cursor) else { throw Problem.badRequest("The cursor is not valid.") }
        return value
    }
}

/// Opaque cursors: base64url of a small JSON value. Opaque to clients, so the server
/// may change what is inside.
public enum Cursor {
    public static func encode(_ value: some Encodable) -> String {
        ((try? JSONEncoder().encode(value)) ?? Data()).base64URLString
    }

    public static func decode<T: Decodable>(_ type: T.Type, _ text: String) -> T? {
        guard let data = Data(base64URL: text) else { return nil }
        return try? JSONDecoder().decode(type, from: data)
    }
}

/// A page of results as every list endpoint answers it.
public struct Page<Item: Encodable & Sendable>: ResponseEncodable, Sendable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    /// A page from `fetched`, which was read with `LIMIT limit + 1`: the extra row only
    /// says there is a next page, whose cursor is `position` of the last item shown.
    public init(fetched: [Item], limit: Int, position: (Item) -> some Encodable) {
        let shown = Array(fetched.prefix(limit))
        self.init(items: shown, nextCursor: fetched.count > limit ? shown.last.map { Cursor.encode(position($0)) } : nil)
    }
}

extension Request {
    /// The query string as a dictionary (last value wins).
    public var queryItems: [String: String] {
        var result: [String: String] = [:]
        for (key, value) in uri.queryParameters { result[String(key)] = String(value) }
        return result
    }
}
