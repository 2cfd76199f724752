import Foundation

/// A configuration error names the variable, so a misconfigured pod says what is wrong
/// in its first log line instead of failing later with a connection error.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let variable: String
    public let problem: String
    public var description: String { "configuration: \(variable) \(problem)" }

    public init(variable: String, problem: String) {
        self.variable = variable
        self.problem = problem
    }
}

/// Typed reads of environment variables. Every read either returns a valid value or
/// throws a `ConfigurationError` naming the variable.
public struct Environment: Sendable {
    public let values: [String: String]

    public init(_ values: [String: String] = ProcessInfo.processInfo.environment) {
        self.values = values
    }

    public func string(_ name: String, default fallback: String? = nil) throws -> String {
        if let value = values[name], !value.isEmpty { return value }
        if let fallback { return fallback }
        throw ConfigurationError(variable: name, problem: "is required but not set")
    }

    public func optionalString(_ name: String) -> String? {
        guard let value = values[name], !value.isEmpty else { return nil }
        return value
    }

    public func int(_ name: String, default fallback: Int? = nil, range: ClosedRange<Int> = 0...Int.max) throws -> Int {
        guard let raw = optionalString(name) else {
            if let fallback { return fallback }
            throw ConfigurationError(variable: name, problem: "is required but not set")
        }
        guard let value = Int(raw), range.contains(value) else {
            throw ConfigurationError(variable: name, problem: "must be an integer in \(range.lowerBound)...\(range.upperBound), got '\(raw)'")
        }
        return value
    }

    /// `true` or `false`; anything else is refused.
    public func bool(_ name: String, default fallback: Bool) throws -> Bool {
        guard let raw = optionalString(name) else { return fallback }
        guard raw == "true" || raw == "false" else { throw ConfigurationError(variable: name, problem: "must be true or false, got '\(raw)'") }
        return raw == "true"
    }

    public func url(_ name: String, default fallback: String? = nil) throws -> URL {
        let raw = try string(name, default: fallback)
        guard let url = URL(string: raw), url.scheme != nil, url.host != nil else {
            throw ConfigurationError(variable: name, problem: "must be an absolute URL, got '\(raw)'")
        }
        return url
    }

    /// Base64 (standard alphabet) bytes of an exact length, e.g. an AES-256 key.
    public func base64Bytes(_ name: String, count: Int, default fallback: String? = nil) throws -> [UInt8] {
        let raw = try string(name, default: fallback)
        guard let data = Data(base64Encoded: raw), data.count == count else {
            throw ConfigurationError(variable: name, problem: "must be \(count) bytes in base64")
        }
        return Array(data)
    }
}
