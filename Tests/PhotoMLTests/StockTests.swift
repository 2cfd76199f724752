import Foundation
import TestSupport
import Testing

@Suite("inventory stock")
struct StockTests {
    @Test("a batch opens with an `in` movement; out, adjustment and a move each write their movement with who and why")
    func movements() async throws {
        let grower = try await Grower.fresh()
        let (_, area, bench) = try await grower.site()
        let other = try await grower.create("/v1/inventory/locations", ["kind": "location", "name": "Bench 8", "parentId": area])
        let product = try await grower.create("/v1/inventory/products", ["species": "Lavandula angustifolia"])
        let opened = try await grower.send("POST", "/v1/inventory/stock", json: ["locationId": bench, "productId": product, "quantity": 40])
        #expect(opened.status == 201)
        #expect(opened.json["quantity"] as? Int == 40)
        #expect(opened.string("source") == "manual")
        let batch = try #require(opened.string("id"))
        let sold = try await grower.send(
            "POST", "/v1/inventory/stock/\(batch)/movements", json: ["kind": "out", "quantity": 10, "reason": "order 4411"])
        #expect(sold.status == 201)
        #expect(sold.json["delta"] as? Int == -10)
        #expect(sold.json["quantityAfter"] as? Int == 30)
        #expect(sold.string("reason") == "order 4411")
        #expect(sold.string("actor") != nil)
        let counted = try await grower.send("POST", "/v1/inventory/stock/\(batch)/movements", json: ["kind": "adjustment", "quantity": 28])
        #expect(counted.json["delta"] as? Int == -2)
        let moved = try await grower.send(
            "POST", "/v1/inventory/stock/\(batch)/movements", json: ["kind": "move", "quantity": 8, "toLocationId": other])
        #expect(moved.status == 201)
        #expect(moved.json["quantityAfter"] as? Int == 20)
        let receiving = try #require(moved.string("counterpartBatchId"))
        let target = try await grower.send("GET", "/v1/inventory/stock/\(receiving)")
        #expect(target.json["quantity"] as? Int == 8)
        #expect(target.string("source") == "moved")
        #expect(target.string("locationId") == other)
        // A second move to the same place adds to the same batch.
        _ = try await grower.send("POST", "/v1/inventory/stock/\(batch)/movements", json: ["kind": "move", "quantity": 2, "toLocationId": other])
        #expect(try await grower.send("GET", "/v1/inventory/stock/\(receiving)").json["quantity"] as? Int == 10)
        let history = try await grower.send("GET", "/v1/inventory/stock/\(batch)/movements")
        #expect(history.items.map { $0["kind"] as? String } == ["move", "move", "adjustment", "out", "in"])
        #expect(try await grower.send("GET", "/v1/inventory/stock?locationId=\(other)").items.count == 1)
        #expect(try await grower.send("GET", "/v1/inventory/stock?productId=\(product)").items.count == 2)
        #expect(try await grower.send("GET", "/v1/inventory/stock/\(batch)").headers["etag"] == "\"v6\"")
    }

    @Test("taking more than a batch holds answers 409; bad kinds, quantities and targets 422; stock in an area 422")
    func refusals() async throws {
        let grower = try await Grower.fresh()
        let (warehouse, area, bench) = try await grower.site()
        let product = try await grower.create("/v1/inventory/products", ["species": "Hebe"])
        let batch = try await grower.create("/v1/inventory/stock", ["locationId": bench, "productId": product, "quantity": 5])
        let path = "/v1/inventory/stock/\(batch)/movements"
        #expect(try await grower.send("POST", path, json: ["kind": "out", "quantity": 6]).status == 409)
        #expect(try await grower.send("POST", path, json: ["kind": "move", "quantity": 6, "toLocationId": bench]).status == 422)
        for body: [String: Any] in [
            ["kind": "out", "quantity": 0], ["kind": "in", "quantity": -3], ["kind": "adjustment", "quantity": -1], ["kind": "steal", "quantity": 1],
            ["kind": "move", "quantity": 1], ["kind": "in", "quantity": 1, "toLocationId": bench],
            ["kind": "move", "quantity": 1, "toLocationId": area], ["kind": "move", "quantity": 1, "toLocationId": UUID().uuidString],
            ["kind": "in", "quantity": 10_000_001], ["kind": "out", "quantity": 1, "reason": String(repeating: "r", count: 501)],
        ] {
            let answer = try await grower.send("POST", path, json: body)
            #expect(answer.status == 422, "\(body) answered \(answer.status)")
        }
        #expect(try await grower.send("POST", path, raw: "[]").status == 400)
        #expect(try await grower.send("POST", path, json: ["kind": "in", "quantity": 1], headers: ["If-Match": "\"v9\""]).status == 412)
        for body: [String: Any] in [
            ["locationId": area, "productId": product, "quantity": 1], ["locationId": warehouse, "productId": product, "quantity": 1],
            ["locationId": bench, "productId": UUID().uuidString, "quantity": 1], ["locationId": bench, "productId": product, "quantity": -1],
            ["locationId": bench, "productId": product, "quantity": 1, "source": "moved"],
            ["locationId": "nope", "productId": product, "quantity": 1],
        ] {
            let answer = try await grower.send("POST", "/v1/inventory/stock", json: body)
            #expect(answer.status == 422, "\(body) answered \(answer.status)")
        }
        #expect(try await grower.send("GET", "/v1/inventory/stock?locationId=x").status == 422)
        // Nothing refused changed the batch.
        let after = try await grower.send("GET", "/v1/inventory/stock/\(batch)")
        #expect(after.json["quantity"] as? Int == 5)
        #expect(try await grower.send("GET", "/v1/inventory/stock/\(batch)/movements").items.count == 1)
    }

    @Test("concurrent takings never drive a batch below zero: of 10 outs of 5 from 30, exactly 6 pass")
    func concurrentOuts() async throws {
        let grower = try await Grower.fresh()
        let (_, _, bench) = try await grower.site()
        let product = try await grower.create("/v1/inventory/products", ["species": "Buxus"])
        let batch = try await grower.create("/v1/inventory/stock", ["locationId": bench, "productId": product, "quantity": 30])
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<10 {
                group.addTask {
                    try await grower.send("POST", "/v1/inventory/stock/\(batch)/movements", json: ["kind": "out", "quantity": 5]).status
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.filter { $0 == 201 }.count == 6)
        #expect(statuses.filter { $0 == 409 }.count == 4)
        #expect(try await grower.send("GET", "/v1/inventory/stock/\(batch)").json["quantity"] as? Int == 0)
    }

    @Test("another tenant's batch answers 404, and its locations and products cannot take stock")
    func tenantIsolation() async throws {
        let grower = try await Grower.fresh()
        let (_, _, bench) = try await grower.site()
        let product = try await grower.create("/v1/inventory/products", ["species": "Buxus"])
        let batch = try await grower.create("/v1/inventory/stock", ["locationId": bench, "productId": product, "quantity": 3])
        let stranger = try await Grower.fresh()
        let (_, _, ownBench) = try await stranger.site()
        let ownProduct = try await stranger.create("/v1/inventory/products", ["species": "Ilex"])
        #expect(try await stranger.send("GET", "/v1/inventory/stock/\(batch)").status == 404)
        #expect(try await stranger.send("GET", "/v1/inventory/stock/\(batch)/movements").status == 404)
        #expect(try await stranger.send("POST", "/v1/inventory/stock/\(batch)/movements", json: ["kind": "out", "quantity": 1]).status == 404)
        #expect(
            try await stranger.send("POST", "/v1/inventory/stock", json: ["locationId": bench, "productId": ownProduct, "quantity": 1]).status == 422)
        #expect(
            try await stranger.send("POST", "/v1/inventory/stock", json: ["locationId": ownBench, "productId": product, "quantity": 1]).status == 422)
        let ownBatch = try await stranger.create("/v1/inventory/stock", ["locationId": ownBench, "productId": ownProduct, "quantity": 2])
        #expect(
            try await stranger.send(
                "POST", "/v1/inventory/stock/\(ownBatch)/movements", json: ["kind": "move", "quantity": 1, "toLocationId": bench]
            )
            .status == 422)
        #expect(try await grower.send("GET", "/v1/inventory/stock/\(batch)").json["quantity"] as? Int == 3)
    }
}
