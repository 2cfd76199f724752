import Foundation

/// Collects every invalid field of a request so the client learns all of them at once.
public struct Validator: Sendable {
    public private(set) var errors: [Problem.FieldError] = []

    public init() {}

    public mutating func add(_ field: String, _ message: String) {
        errors.append(.init(field: field, message: message))
    }

    public mutating func check(_ condition: Bool, _ field: String, _ message: @autoclosure () -> String) {
        if !condition { add(field, message()) }
    }

    /// A required, trimmed, non-empty string of at most `max` characters.
    public mutating func text(_ value: String?, _ field: String, max: Int, required: Bool = true) -> String? {
        guard let value else {
            if required { add(field, "is required") }
            return nil
        }
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty {
            if required { add(field, "must not be empty") }
            return required ? nil : ""
        }
        // Code points, as PostgreSQL's char_length counts them: a few graphemes can hold
        // hundreds of combining marks.
        if trimmed.unicodeScalars.count > max { add(field, "must be at most \(max) characters") }
        return trimmed
    }

    public func finish() throws {
        if !errors.isEmpty { throw Problem.validation(errors) }
    }
}
