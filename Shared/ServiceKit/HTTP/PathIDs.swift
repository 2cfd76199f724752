import Foundation
import Hummingbird

extension ServiceRequestContext {
    /// A UUID from the path (`:id` unless named); one that is not a UUID names nothing
    /// here, so it answers 404 like an id of another tenant.
    public func pathID(_ what: String, parameter: String = "id") throws -> UUID {
        guard let raw = parameters.get(parameter), let id = UUID(uuidString: raw) else { throw Problem.notFound("No such \(what).") }
        return id
    }
}

extension Validator {
    /// An optional UUID query parameter, refused when present but malformed.
    public mutating func uuid(_ query: [String: String], _ name: String) -> UUID? {
        guard let raw = query[name] else { return nil }
        guard let id = UUID(uuidString: raw) else {
            add(name, "must be a UUID")
            return nil
        }
        return id
    }
}
