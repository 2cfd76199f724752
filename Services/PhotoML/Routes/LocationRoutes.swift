import Foundation
import Hummingbird
import ServiceKit

/// `/v1/inventory/locations`: warehouses, areas and locations.
struct LocationRoutes: RouteGroup {
    let store: LocationStore

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let locations = router.group("v1/inventory/locations").add(middleware: AuthenticationMiddleware(verifier: verifier))
        locations.post { request, context in try await create(request, context) }
        locations.get { request, context in try await list(request, context) }
        locations.get(":id") { _, context in
            let identity = try context.requireIdentity()
            let location = try await Inventory.mapErrors("location") {
                try await store.get(try context.pathID("location"), tenant: identity.tenantID)
            }
            return EditedResponse(headers: [.eTag: location.etag], response: location)
        }
        locations.patch(":id") { request, context in try await update(request, context) }
        locations.delete(":id") { request, context -> HTTPResponse.Status in
            let identity = try context.requireIdentity()
            try identity.requireWriter()
            let id = try context.pathID("location")
            let expected = try request.ifMatchVersion()
            try await Inventory.mapErrors("location") { try await store.delete(id, tenant: identity.tenantID, expectedVersion: expected) }
            return .noContent
        }
    }

    func create(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<Location> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let input = try await request.decodeJSON(NewLocationInput.self, context: context)
        var v = Validator()
        let name = LocationRules.name(input.name, &v)
        let code = LocationRules.code(input.code, &v)
        v.check(input.kind == .warehouse || input.parentId != nil, "parentId", "is required for an area or location")
        v.check(input.kind != .warehouse || input.parentId == nil, "parentId", "a warehouse has no parent")
        LocationRules.surface(input.surfaceSquareMetres, kind: input.kind, &v)
        LocationRules.calibration(input.calibration, kind: input.kind, &v)
        try v.finish()
        let location = try await Inventory.mapErrors("location") { try await store.create(input, name: name, code: code, tenant: identity.tenantID) }
        return EditedResponse(
            status: .created, headers: [.eTag: location.etag, .location: "/v1/inventory/locations/\(location.id.uuidString.lowercased())"],
            response: location)
    }

    func list(_ request: Request, _ context: ServiceRequestContext) async throws -> Page<Location> {
        let identity = try context.requireIdentity()
        let query = request.queryItems
        let page = try PageRequest(query)
        var v = Validator()
        let kind = query["kind"].map { LocationKind(rawValue: $0) }
        v.check(kind != .some(nil), "kind", "must be warehouse, area or location")
        let parent = v.uuid(query, "parentId")
        try v.finish()
        let locations = try await store.list(
            tenant: identity.tenantID, kind: kind ?? nil, parent: parent, before: try page.decodedCursor(UUID.self), limit: page.limit + 1)
        return Page(fetched: locations, limit: page.limit) { $0.id }
    }

    func update(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<Location> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let id = try context.pathID("location")
        let expected = try request.ifMatchVersion()
        let patch = try await request.decodeJSON(LocationPatch.self, context: context)
        var v = Validator()
        if case .value(let value) = patch.name { _ = LocationRules.name(value, &v) }
        if case .null = patch.name { v.add("name", "must not be null") }
        if case .value(let value) = patch.code { _ = LocationRules.code(value, &v) }
        try v.finish()
        let location = try await Inventory.mapErrors("location") {
            try await store.update(id, tenant: identity.tenantID, expectedVersion: expected) { current in
                var next = current
                var v = Validator()
                if case .value(let name) = patch.name { next.name = name.trimmingCharacters(in: .whitespacesAndNewlines) }
                switch patch.code {
                case .absent: break
                case .null: next.code = nil
                case .value(let code): next.code = code.trimmingCharacters(in: .whitespacesAndNewlines)
                }
                switch patch.surfaceSquareMetres {
                case .absent: break
                case .null: next.surfaceSquareMetres = nil
                case .value(let surface):
                    LocationRules.surface(surface, kind: current.kind, &v)
                    next.surfaceSquareMetres = surface
                }
                switch patch.calibration {
                case .absent: break
                case .null: next.calibration = nil
                case .value(let calibration):
                    LocationRules.calibration(calibration, kind: current.kind, &v)
                    next.calibration = calibration
                }
                // Surface and calibration are checked against the kind, which only the stored row knows.
                try v.finish()
                return next
            }
        }
        return EditedResponse(headers: [.eTag: location.etag], response: location)
    }
}

extension Location: ResponseEncodable {}
