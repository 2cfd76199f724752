import Foundation
import Hummingbird
import NIOCore

/// PostgreSQL text cannot hold U+0000, and no field of this API needs it: input that
/// carries one is refused up front with 400, instead of failing at the database (a 500,
/// or a streamed answer cut off half-way).
public enum NULCharacter {
    public static func refuse(in text: some StringProtocol, where place: String) throws {
        if text.utf8.contains(0) { throw Problem.badRequest("The \(place) must not contain NUL (U+0000) characters.") }
    }

    /// Whether JSON text holds the escape `\u0000` (a raw NUL is not valid JSON anyway): a
    /// backslash run of odd length followed by `u0000`.
    static func isEscaped(inJSON buffer: ByteBuffer) -> Bool {
        let bytes = buffer.readableBytesView
        var index = bytes.startIndex
        var backslashes = 0
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\") {
                backslashes += 1
            } else {
                if backslashes % 2 == 1, byte == UInt8(ascii: "u"), bytes.index(index, offsetBy: 4) < bytes.endIndex,
                    bytes[(index + 1)...(index + 4)].allSatisfy({ $0 == UInt8(ascii: "0") })
                {
                    return true
                }
                backslashes = 0
            }
            index += 1
        }
        return false
    }
}

/// Refuses a request whose path or query holds a NUL (`%00`), before any handler reads it.
public struct NULGuardMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // The path as handlers read their parameters: percent-decoded (only a path with a
        // `%` can decode to a NUL, so most requests skip the decoding).
        let path = request.uri.path
        if path.utf8.contains(UInt8(ascii: "%")) { try NULCharacter.refuse(in: path.removingPercentEncoding ?? path, where: "path") }
        for (key, value) in request.uri.queryParameters {
            try NULCharacter.refuse(in: key, where: "query")
            try NULCharacter.refuse(in: value, where: "query")
        }
        return try await next(request, context)
    }
}
