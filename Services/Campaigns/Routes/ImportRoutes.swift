import Foundation
import Hummingbird
import NIOCore
import ServiceKit

/// `/v1/campaigns/imports` (CSV in, as a job with progress) and
/// `GET /v1/campaigns/subscribers/export.csv` (streamed out).
struct ImportRoutes: RouteGroup {
    let store: ImportStore
    let subscribers: SubscriberStore
    static let maxBytes = 256 << 20

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let imports = router.group("v1/campaigns/imports").add(middleware: AuthenticationMiddleware(verifier: verifier))
        imports.post { request, context in try await create(request, context) }
        imports.get(":id") { _, context in
            let identity = try context.requireIdentity()
            return try await CampaignProblems.mapErrors("import") { try await store.get(try context.pathID("import"), tenant: identity.tenantID) }
        }
        router.group("v1/campaigns/subscribers/export.csv").add(middleware: AuthenticationMiddleware(verifier: verifier))
            .get { _, context in try await export(context) }
    }

    /// The CSV as the body (`text/csv`), `mode=upsert|skip`, `listIds=<id>,<id>`: kept in
    /// chunks as it arrives (never whole in memory), then read by a job. 202 with the import.
    func create(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<SubscriberImport> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let query = request.queryItems
        var v = Validator()
        let mode = SubscriberImport.Mode(rawValue: query["mode"] ?? "upsert")
        v.check(mode != nil, "mode", "must be upsert or skip")
        let listTexts = (query["listIds"] ?? "").split(separator: ",").map(String.init)
        let lists = listTexts.compactMap(UUID.init(uuidString:))
        v.check(lists.count == listTexts.count, "listIds", "must be list ids separated by commas")
        v.check(lists.count <= 20, "listIds", "at most 20")
        try v.finish()
        // Kept in the database a chunk at a time as the body arrives; the header is checked
        // on the first chunk, before anything is kept.
        let (store, id, tenant) = (self.store, UUID.v7(), identity.tenantID)
        var current: [UInt8] = []
        var (kept, total) = (0, 0)
        func keep(_ chunk: [UInt8]) async throws {
            if kept == 0 {
                try Self.checkHeader(chunk)
                try await CampaignProblems.mapErrors("import") {
                    try await store.begin(id: id, mode: mode ?? .upsert, lists: lists, first: chunk, actor: identity.subject, tenant: tenant)
                }
            } else {
                try await store.add(chunk, seq: kept, to: id, tenant: tenant)
            }
            kept += 1
        }
        do {
            for try await buffer in request.body {
                total += buffer.readableBytes
                guard total <= Self.maxBytes else {
                    throw Problem(status: .contentTooLarge, detail: "An import may have at most \(Self.maxBytes) bytes.")
                }
                current += buffer.readableBytesView
                if current.count >= ImportStore.chunkBytes {
                    try await keep(Array(current.prefix(ImportStore.chunkBytes)))
                    current.removeFirst(ImportStore.chunkBytes)
                }
            }
            if !current.isEmpty || kept == 0 { try await keep(current) }
        } catch {
            if kept > 0 { try? await store.abandon(id, reason: "the upload did not finish", tenant: tenant) }
            throw error
        }
        let created = try await CampaignProblems.mapErrors("import") { try await store.complete(id, chunks: kept, bytes: total, tenant: tenant) }
        return EditedResponse(
            status: .accepted, headers: [.location: "/v1/campaigns/imports/\(created.id.uuidString.lowercased())"], response: created)
    }

    /// A file whose first line is no header naming an email column is refused at once.
    static func checkHeader(_ first: [UInt8]) throws {
        var reader = CSVReader()
        var header = reader.feed(first).first
        if header == nil { header = (try? reader.finish())?.first }
        guard let header, ImportColumns(header: header.fields) != nil else {
            let message = first.isEmpty ? "must be a CSV file with a header line" : "the first line must be a header naming an email column"
            throw Problem.validation([.init(field: "body", message: message)])
        }
    }

    /// Every subscriber, oldest first: email, name, status, then one column per attribute
    /// (as JSON), in pages so memory stays flat.
    func export(_ context: ServiceRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let (subscribers, tenant) = (self.subscribers, identity.tenantID)
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: "email,name,status,attributes,created_at\r\n"))
            var cursor: UUID?
            repeat {
                let page = try await subscribers.oldestFirst(tenant: tenant, after: cursor, limit: 1000)
                var chunk = ""
                for subscriber in page {
                    let attributes = String(decoding: (try? JSONEncoder().encode(subscriber.attributes)) ?? Data("{}".utf8), as: UTF8.self)
                    chunk +=
                        [
                            subscriber.email, subscriber.name, subscriber.status.rawValue, attributes,
                            ISO8601DateFormatter().string(from: subscriber.createdAt),
                        ]
                        .map(CSVCell.escape).joined(separator: ",") + "\r\n"
                }
                if !chunk.isEmpty { try await writer.write(ByteBuffer(string: chunk)) }
                cursor = page.count == 1000 ? page.last?.id : nil
            } while cursor != nil
            try await writer.finish(nil)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"subscribers.csv\""],
            body: body)
    }
}

extension SubscriberImport: ResponseEncodable {}
