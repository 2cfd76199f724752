import Foundation
import Hummingbird

extension Request {
    /// The version an `If-Match: "vN"` names (the ETags this API returns); nil without the
    /// header or with `*`, 400 for anything else.
    public func ifMatchVersion() throws -> Int? {
        guard let raw = headers[.ifMatch] else { return nil }
        let trimmed = raw.trimmingCharacters(in: .whitespaces)
        if trimmed == "*" { return nil }
        guard trimmed.hasPrefix("\"v"), trimmed.hasSuffix("\""), let version = Int(trimmed.dropFirst(2).dropLast()) else {
            throw Problem.badRequest("If-Match must be an ETag this API returned, like \"v3\".")
        }
        return version
    }
}
