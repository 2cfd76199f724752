import Foundation
import TestSupport
import Testing

@Suite("inventory products")
struct ProductTests {
    @Test("create, read, change with If-Match, clear a field with null, find by text")
    func crud() async throws {
        let grower = try await Grower.fresh()
        let created = try await grower.send(
            "POST", "/v1/inventory/products",
            json: ["species": " Lavandula angustifolia ", "variety": "Hidcote", "size": "P9", "packaging": "tray of 12", "sku": "LAV-HID-P9"])
        #expect(created.status == 201)
        #expect(created.string("species") == "Lavandula angustifolia")
        let id = try #require(created.string("id"))
        _ = try await grower.create("/v1/inventory/products", ["species": "Buxus sempervirens"])
        let changed = try await grower.send(
            "PATCH", "/v1/inventory/products/\(id)", json: ["size": "C2", "packaging": NSNull()], headers: ["If-Match": "\"v1\""])
        #expect(changed.status == 200)
        #expect(changed.string("size") == "C2")
        #expect(changed.json["packaging"] == nil)
        #expect(changed.string("variety") == "Hidcote")
        #expect(try await grower.send("PATCH", "/v1/inventory/products/\(id)", json: ["size": "C3"], headers: ["If-Match": "\"v1\""]).status == 412)
        #expect(try await grower.send("GET", "/v1/inventory/products?q=hidc").items.map { $0["id"] as? String } == [id])
        #expect(try await grower.send("GET", "/v1/inventory/products?q=%25").items.isEmpty)
        #expect(try await grower.send("GET", "/v1/inventory/products").items.count == 2)
    }

    @Test("a missing species, an over-long size, a duplicate SKU, a NUL: 422, 422, 409, 400")
    func badInput() async throws {
        let grower = try await Grower.fresh()
        _ = try await grower.create("/v1/inventory/products", ["species": "Buxus sempervirens", "sku": "BUX-1"])
        #expect(try await grower.send("POST", "/v1/inventory/products", json: ["variety": "x"]).status == 422)
        #expect(
            try await grower.send("POST", "/v1/inventory/products", json: ["species": "x", "size": String(repeating: "9", count: 65)]).status == 422)
        #expect(try await grower.send("POST", "/v1/inventory/products", json: ["species": "Other", "sku": "BUX-1"]).status == 409)
        #expect(try await grower.send("POST", "/v1/inventory/products", raw: #"{"species": "a\u0000"}"#).status == 400)
        #expect(try await grower.send("POST", "/v1/inventory/products", json: ["species": 7]).status == 422)
        #expect(try await grower.send("GET", "/v1/inventory/products").items.count == 1)
        // Another tenant may use the same SKU.
        let neighbour = try await Grower.fresh()
        #expect(try await neighbour.send("POST", "/v1/inventory/products", json: ["species": "Buxus", "sku": "BUX-1"]).status == 201)
    }

    @Test("a product with stock is kept (409); another tenant's product answers 404")
    func deleteAndIsolation() async throws {
        let grower = try await Grower.fresh()
        let (_, _, location) = try await grower.site()
        let stocked = try await grower.create("/v1/inventory/products", ["species": "Hebe"])
        _ = try await grower.create("/v1/inventory/stock", ["locationId": location, "productId": stocked, "quantity": 0])
        #expect(try await grower.send("DELETE", "/v1/inventory/products/\(stocked)").status == 409)
        let unused = try await grower.create("/v1/inventory/products", ["species": "Ilex"])
        let stranger = try await Grower.fresh()
        #expect(try await stranger.send("GET", "/v1/inventory/products/\(unused)").status == 404)
        #expect(try await stranger.send("PATCH", "/v1/inventory/products/\(unused)", json: ["species": "Mine"]).status == 404)
        #expect(try await stranger.send("DELETE", "/v1/inventory/products/\(unused)").status == 404)
        #expect(try await grower.send("DELETE", "/v1/inventory/products/\(unused)").status == 204)
    }
}
