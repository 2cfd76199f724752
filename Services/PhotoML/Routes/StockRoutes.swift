import Foundation
import Hummingbird
import ServiceKit

/// `/v1/inventory/stock`: batches of a product at a location, and their movements.
struct StockRoutes: RouteGroup {
    let store: StockStore

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let stock = router.group("v1/inventory/stock").add(middleware: AuthenticationMiddleware(verifier: verifier))
        stock.post { request, context in try await create(request, context) }
        stock.get { request, context in try await list(request, context) }
        stock.get(":id") { _, context in
            let identity = try context.requireIdentity()
            let batch = try await Inventory.mapErrors("stock batch") {
                try await store.get(try context.pathID("stock batch"), tenant: identity.tenantID)
            }
            return EditedResponse(headers: [.eTag: batch.etag], response: batch)
        }
        stock.post(":id/movements") { request, context in try await move(request, context) }
        stock.get(":id/movements") { request, context in try await movements(request, context) }
    }

    func create(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<StockBatch> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let input = try await request.decodeJSON(NewStockInput.self, context: context)
        var v = Validator()
        v.check((0...StockStore.maxBatchQuantity).contains(input.quantity), "quantity", "must be 0 to \(StockStore.maxBatchQuantity)")
        v.check(input.source != .moved, "source", "must be counted or manual (moved batches arise from moves)")
        try v.finish()
        let batch = try await Inventory.mapErrors("stock batch") { try await store.create(input, actor: identity.subject, tenant: identity.tenantID) }
        return EditedResponse(
            status: .created, headers: [.eTag: batch.etag, .location: "/v1/inventory/stock/\(batch.id.uuidString.lowercased())"], response: batch)
    }

    func list(_ request: Request, _ context: ServiceRequestContext) async throws -> Page<StockBatch> {
        let identity = try context.requireIdentity()
        let query = request.queryItems
        let page = try PageRequest(query)
        var v = Validator()
        let location = v.uuid(query, "locationId")
        let product = v.uuid(query, "productId")
        try v.finish()
        let batches = try await store.list(
            tenant: identity.tenantID, location: location, product: product, before: try page.decodedCursor(UUID.self), limit: page.limit + 1)
        return Page(fetched: batches, limit: page.limit) { $0.id }
    }

    /// 201 with the movement; the batch's new ETag comes with it.
    func move(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<StockMovement> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let id = try context.pathID("stock batch")
        let expected = try request.ifMatchVersion()
        let input = try await request.decodeJSON(MovementInput.self, context: context)
        var v = Validator()
        let movement = MovementRequest.validate(input, &v)
        let reason = input.reason.flatMap { v.text($0, "reason", max: 500, required: false) }
        try v.finish()
        guard let movement else { throw Problem.validation([.init(field: "kind", message: "is not a movement")]) }
        let (batch, recorded) = try await Inventory.mapErrors("stock batch") {
            try await store.move(
                id, movement, reason: reason?.isEmpty == true ? nil : reason, actor: identity.subject, expectedVersion: expected,
                tenant: identity.tenantID)
        }
        return EditedResponse(status: .created, headers: [.eTag: batch.etag], response: recorded)
    }

    func movements(_ request: Request, _ context: ServiceRequestContext) async throws -> Page<StockMovement> {
        let identity = try context.requireIdentity()
        let id = try context.pathID("stock batch")
        let page = try PageRequest(request.queryItems)
        let movements = try await Inventory.mapErrors("stock batch") {
            try await store.movements(of: id, tenant: identity.tenantID, before: try page.decodedCursor(UUID.self), limit: page.limit + 1)
        }
        return Page(fetched: movements, limit: page.limit) { $0.id }
    }
}

extension StockBatch: ResponseEncodable {}
extension StockMovement: ResponseEncodable {}
