import Foundation
import Hummingbird
import Persistence
import ServiceKit

/// `POST /v1/tasks/import` (JSON or CSV, ours or Todoist's) and `GET /v1/tasks/imports/{id}`.
extension TaskRoutes {
    static let maxImportBytes = 32 << 20

    func importTasks(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<ImportResult> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let importer = TaskImporter(store: store)
        let modeParameter = request.queryItems["mode"] ?? ImportMode.allOrNothing.rawValue
        guard let mode = ImportMode(rawValue: modeParameter) else {
            throw Problem.validation([.init(field: "mode", message: "must be all-or-nothing or best-effort")])
        }
        let key = request.headers[.idempotencyKey]
        if let key {
            guard (1...200).contains(key.count) else {
                throw Problem.validation([.init(field: "Idempotency-Key", message: "must be 1 to 200 characters")])
            }
            if let earlier = try await importer.find(key: key, tenant: identity.tenantID) { return Self.answer(earlier) }
        }
        let body: String
        do {
            body = String(buffer: try await request.body.collect(upTo: Self.maxImportBytes))
        } catch {
            throw Problem(status: .contentTooLarge, detail: "An import is at most 32 MB; split the file.")
        }
        try NULCharacter.refuse(in: body, where: "import")
        guard let format = TaskImportFormat.detect(contentType: request.headers[.contentType], body: body) else {
            throw Problem(status: .unsupportedMediaType, detail: "Send application/json (our export) or text/csv (our export or Todoist's).")
        }
        let parsed = format.parse(body)
        if parsed.rows.isEmpty || (mode == .allOrNothing && !parsed.errors.isEmpty) {
            let result = ImportResult(
                id: .v7(), status: "failed", mode: mode, total: parsed.rows.count + parsed.errors.count, created: 0,
                errors: parsed.errors.isEmpty ? [RowError(line: 0, field: nil, message: "the file holds no tasks")] : parsed.errors,
                warnings: parsed.warnings)
            return EditedResponse(status: .unprocessableContent, response: result)
        }
        let result: ImportResult
        do {
            result = try await start(parsed, mode: mode, key: key, importer: importer, identity: identity)
        } catch  where error.sqlState == SQLState.uniqueViolation {
            // The same key raced in from a retry: the first one's answer stands.
            guard let key, let earlier = try await importer.find(key: key, tenant: identity.tenantID) else { throw error }
            return Self.answer(earlier)
        }
        return Self.answer(result)
    }

    private func start(
        _ parsed: TaskImportFormat.Parsed, mode: ImportMode, key: String?, importer: TaskImporter, identity: Identity
    ) async throws -> ImportResult {
        let result: ImportResult
        if parsed.rows.count > TaskImporter.inlineLimit {
            result = try await importer.schedule(
                parsed.rows, mode: mode, key: key, warnings: parsed.warnings, tenant: identity.tenantID, actor: identity.subject)
        } else {
            var outcome = try await importer.run(
                parsed.rows, id: .v7(), mode: mode, key: key, warnings: parsed.warnings, tenant: identity.tenantID, actor: identity.subject,
                recordExists: false)
            outcome.errors = parsed.errors + outcome.errors
            result = outcome
        }
        return result
    }

    static func answer(_ result: ImportResult) -> EditedResponse<ImportResult> {
        switch result.status {
        case "running":
            return EditedResponse(status: .accepted, headers: [.location: "/v1/tasks/imports/\(result.id.uuidString.lowercased())"], response: result)
        case "failed":
            return EditedResponse(status: .unprocessableContent, response: result)
        default:
            return EditedResponse(status: .created, response: result)
        }
    }

    func importStatus(_ context: ServiceRequestContext) async throws -> ImportResult {
        let identity = try context.requireIdentity()
        guard let raw = context.parameters.get("id"), let id = UUID(uuidString: raw),
            let result = try await TaskImporter(store: store).get(id, tenant: identity.tenantID)
        else { throw Problem.notFound("No such import.") }
        return result
    }
}

extension ImportResult: ResponseEncodable {}
