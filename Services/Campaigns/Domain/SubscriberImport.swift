import Foundation
import ServiceKit

/// A CSV import of subscribers as `GET /v1/campaigns/imports/{id}` shows it.
struct SubscriberImport: Codable, Sendable, Equatable {
    enum Mode: String, Codable, Sendable { case upsert, skip }

    var id: UUID
    var mode: Mode
    var listIds: [UUID]
    /// queued, running, finished or failed.
    var state: String
    var totalBytes: Int
    /// How far the job has read, 0 to 1.
    var progress: Double
    var rows: Int
    var created: Int
    var updated: Int
    var skipped: Int
    var failed: Int
    var errors: [RowError]
    var error: String?
    var createdAt: Date
    var finishedAt: Date?
}

/// Why one row was not imported.
struct RowError: Codable, Sendable, Equatable {
    var line: Int
    var field: String
    var reason: String
}

/// A CSV row as a subscriber: `email` (required), `name`, `status`; every other column
/// becomes a string attribute named by its header.
struct ImportColumns: Codable, Sendable, Equatable {
    var email: Int
    var name: Int?
    var status: Int?
    /// Attribute name and column.
    var attributes: [String: Int]

    /// From the header row; nil when it has no `email` column.
    init?(header: [String]) {
        let names = header.map { $0.trimmingCharacters(in: .whitespaces) }
        guard let email = names.firstIndex(where: { $0.lowercased() == "email" }) else { return nil }
        self.email = email
        name = names.firstIndex { $0.lowercased() == "name" }
        status = names.firstIndex { $0.lowercased() == "status" }
        var attributes: [String: Int] = [:]
        for (index, column) in names.enumerated() where ![email, name, status].contains(index) && !column.isEmpty {
            attributes[column.replacingOccurrences(of: ".", with: "_")] = index
        }
        self.attributes = attributes
    }

    struct Row: Sendable {
        var email: String
        var name: String
        var status: Subscriber.Status
        var attributes: [String: JSONValue]
    }

    /// The subscriber a record stands for, or why it cannot be one.
    func row(_ record: CSVReader.Record) -> Result<Row, RowErrors> {
        func field(_ index: Int?) -> String? { index.flatMap { $0 < record.fields.count ? record.fields[$0] : nil } }
        guard let raw = field(email), let address = EmailAddress.normalised(raw) else {
            return .failure(RowErrors(error: RowError(line: record.line, field: "email", reason: "is not an email address")))
        }
        let name = (field(name) ?? "").trimmingCharacters(in: .whitespaces)
        guard name.count <= 200 else {
            return .failure(RowErrors(error: RowError(line: record.line, field: "name", reason: "is longer than 200 characters")))
        }
        var status = Subscriber.Status.enabled
        if let raw = field(self.status)?.trimmingCharacters(in: .whitespaces).lowercased(), !raw.isEmpty {
            guard let parsed = Subscriber.Status(rawValue: raw) else {
                return .failure(RowErrors(error: RowError(line: record.line, field: "status", reason: "must be enabled or blocklisted")))
            }
            status = parsed
        }
        var values: [String: JSONValue] = [:]
        for (key, index) in attributes {
            if let value = field(index), !value.isEmpty { values[key] = .string(value) }
        }
        var v = Validator()
        _ = SubscriberRules.attributes(values, &v)
        guard v.errors.isEmpty else {
            return .failure(RowErrors(error: RowError(line: record.line, field: "attributes", reason: v.errors.first?.message ?? "are not valid")))
        }
        return .success(Row(email: address, name: name, status: status, attributes: values))
    }

    struct RowErrors: Error {
        var error: RowError
    }
}
