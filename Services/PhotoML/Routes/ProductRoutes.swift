import Foundation
import Hummingbird
import ServiceKit

/// `/v1/inventory/products`.
struct ProductRoutes: RouteGroup {
    let store: ProductStore

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let products = router.group("v1/inventory/products").add(middleware: AuthenticationMiddleware(verifier: verifier))
        products.post { request, context in try await create(request, context) }
        products.get { request, context in try await list(request, context) }
        products.get(":id") { _, context in
            let identity = try context.requireIdentity()
            let product = try await Inventory.mapErrors("product") {
                try await store.get(try context.pathID("product"), tenant: identity.tenantID)
            }
            return EditedResponse(headers: [.eTag: product.etag], response: product)
        }
        products.patch(":id") { request, context in try await update(request, context) }
        products.delete(":id") { request, context -> HTTPResponse.Status in
            let identity = try context.requireIdentity()
            try identity.requireWriter()
            let id = try context.pathID("product")
            let expected = try request.ifMatchVersion()
            try await Inventory.mapErrors("product") { try await store.delete(id, tenant: identity.tenantID, expectedVersion: expected) }
            return .noContent
        }
    }

    func create(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<Product> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let input = try await request.decodeJSON(NewProductInput.self, context: context)
        var v = Validator()
        let species = ProductRules.field(input.species, "species", required: true, &v) ?? ""
        let variety = ProductRules.field(input.variety, "variety", &v)
        let size = ProductRules.field(input.size, "size", &v)
        let packaging = ProductRules.field(input.packaging, "packaging", &v)
        let sku = ProductRules.field(input.sku, "sku", &v)
        try v.finish()
        let now = Date()
        let product = try await Inventory.mapErrors("product") {
            try await store.create(
                Product(
                    id: UUID(), species: species, variety: variety, size: size, packaging: packaging, sku: sku, version: 1, createdAt: now,
                    updatedAt: now), tenant: identity.tenantID)
        }
        return EditedResponse(
            status: .created, headers: [.eTag: product.etag, .location: "/v1/inventory/products/\(product.id.uuidString.lowercased())"],
            response: product)
    }

    func list(_ request: Request, _ context: ServiceRequestContext) async throws -> Page<Product> {
        let identity = try context.requireIdentity()
        let query = request.queryItems
        let page = try PageRequest(query)
        var v = Validator()
        let text = query["q"].flatMap { v.text($0, "q", max: 200, required: false) }
        try v.finish()
        let products = try await store.list(
            tenant: identity.tenantID, text: text?.isEmpty == true ? nil : text, before: try page.decodedCursor(UUID.self), limit: page.limit + 1)
        return Page(fetched: products, limit: page.limit) { $0.id }
    }

    func update(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<Product> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let id = try context.pathID("product")
        let expected = try request.ifMatchVersion()
        let patch = try await request.decodeJSON(ProductPatch.self, context: context)
        var v = Validator()
        var species: String?
        if case .value(let value) = patch.species { species = ProductRules.field(value, "species", &v) }
        if case .null = patch.species { v.add("species", "must not be null") }
        let variety = Self.checked(patch.variety, "variety", &v)
        let size = Self.checked(patch.size, "size", &v)
        let packaging = Self.checked(patch.packaging, "packaging", &v)
        let sku = Self.checked(patch.sku, "sku", &v)
        try v.finish()
        let newSpecies = species
        let product = try await Inventory.mapErrors("product") {
            try await store.update(id, tenant: identity.tenantID, expectedVersion: expected) { current in
                var next = current
                if let newSpecies { next.species = newSpecies }
                Self.apply(variety, to: &next.variety)
                Self.apply(size, to: &next.size)
                Self.apply(packaging, to: &next.packaging)
                Self.apply(sku, to: &next.sku)
                return next
            }
        }
        return EditedResponse(headers: [.eTag: product.etag], response: product)
    }
}

extension ProductRoutes {
    /// An optional text field of a patch, validated and trimmed.
    static func checked(_ field: PatchField<String>, _ name: String, _ v: inout Validator) -> PatchField<String> {
        guard case .value(let value) = field else { return field }
        return .value(ProductRules.field(value, name, &v) ?? "")
    }

    static func apply(_ field: PatchField<String>, to value: inout String?) {
        switch field {
        case .absent: break
        case .null: value = nil
        case .value(let new): value = new
        }
    }
}

extension Product: ResponseEncodable {}
