import Foundation
import TestSupport
import Testing

@Suite("inventory locations")
struct LocationTests {
    @Test("warehouse → area → location, with surface and calibration; read, list under a parent, rename with If-Match")
    func hierarchy() async throws {
        let grower = try await Grower.fresh()
        let (warehouse, area, _) = try await grower.site()
        let calibrated = try await grower.send(
            "POST", "/v1/inventory/locations",
            json: [
                "kind": "location", "name": "Bench 8", "parentId": area, "code": "GH2-B8", "surfaceSquareMetres": 10,
                "calibration": [
                    "plantsPerSquareMetre": 64, "cameraHeightMetres": 2.2,
                    "bands": [["top": 0, "bottom": 0.4, "areaSquareMetres": 6], ["top": 0.4, "bottom": 1, "areaSquareMetres": 4]],
                ],
            ])
        #expect(calibrated.status == 201)
        #expect(calibrated.headers["etag"] == "\"v1\"")
        let id = try #require(calibrated.string("id"))
        let read = try await grower.send("GET", "/v1/inventory/locations/\(id)")
        #expect(read.string("kind") == "location")
        #expect(read.string("parentId") == area)
        #expect((read.json["calibration"] as? [String: Any])?["plantsPerSquareMetre"] as? Double == 64)
        #expect(((read.json["calibration"] as? [String: Any])?["bands"] as? [Any])?.count == 2)
        #expect(try await grower.send("GET", "/v1/inventory/locations?parentId=\(area)").items.count == 2)
        #expect(try await grower.send("GET", "/v1/inventory/locations?kind=warehouse").items.map { $0["id"] as? String } == [warehouse])
        let renamed = try await grower.send("PATCH", "/v1/inventory/locations/\(id)", json: ["name": "Bench 8 east"], headers: ["If-Match": "\"v1\""])
        #expect(renamed.status == 200)
        #expect(renamed.headers["etag"] == "\"v2\"")
        #expect(try await grower.send("PATCH", "/v1/inventory/locations/\(id)", json: ["name": "x"], headers: ["If-Match": "\"v1\""]).status == 412)
        let cleared = try await grower.send("PATCH", "/v1/inventory/locations/\(id)", json: ["calibration": NSNull(), "code": NSNull()])
        #expect(cleared.json["calibration"] == nil)
        #expect(cleared.json["code"] == nil)
    }

    @Test("a place in the wrong spot, a surface on an area, overlapping bands, a bad filter: 422; not JSON: 400; a NUL: 400")
    func badInput() async throws {
        let grower = try await Grower.fresh()
        let (warehouse, area, location) = try await grower.site()
        let refusals: [[String: Any]] = [
            ["kind": "area", "name": "Orphan"],
            ["kind": "warehouse", "name": "Nested", "parentId": warehouse],
            ["kind": "location", "name": "Skips a level", "parentId": warehouse],
            ["kind": "area", "name": "Under a location", "parentId": location],
            ["kind": "area", "name": "Measured", "parentId": warehouse, "surfaceSquareMetres": 30],
            ["kind": "location", "name": "Negative", "parentId": area, "surfaceSquareMetres": -1],
            ["kind": "location", "name": "  ", "parentId": area],
            ["kind": "shed", "name": "Unknown kind"],
            [
                "kind": "location", "name": "Overlap", "parentId": area,
                "calibration": ["bands": [["top": 0, "bottom": 0.6, "areaSquareMetres": 6], ["top": 0.5, "bottom": 1, "areaSquareMetres": 4]]],
            ],
            [
                "kind": "location", "name": "Upside down", "parentId": area,
                "calibration": ["bands": [["top": 0.8, "bottom": 0.2, "areaSquareMetres": 1]]],
            ],
            ["kind": "location", "name": "Elsewhere", "parentId": UUID().uuidString],
        ]
        for body in refusals {
            let answer = try await grower.send("POST", "/v1/inventory/locations", json: body)
            #expect(answer.status == 422, "\(body) answered \(answer.status)")
            #expect(answer.contentType == "application/problem+json")
        }
        #expect(try await grower.send("POST", "/v1/inventory/locations", raw: "{not json").status == 400)
        #expect(try await grower.send("POST", "/v1/inventory/locations", raw: #"{"kind": "warehouse", "name": "a\u0000b"}"#).status == 400)
        #expect(try await grower.send("GET", "/v1/inventory/locations?kind=shed").status == 422)
        #expect(try await grower.send("GET", "/v1/inventory/locations?parentId=nope").status == 422)
        #expect(try await grower.send("GET", "/v1/inventory/locations?cursor=zzzz").status == 400)
        #expect(try await grower.send("PATCH", "/v1/inventory/locations/\(area)", json: ["surfaceSquareMetres": 5]).status == 422)
        #expect(try await grower.send("PATCH", "/v1/inventory/locations/\(area)", json: ["name": NSNull()]).status == 422)
        #expect(try await grower.send("PATCH", "/v1/inventory/locations/\(area)", json: ["name": "x"], headers: ["If-Match": "v1"]).status == 400)
        #expect(try await grower.send("GET", "/v1/inventory/locations/not-a-uuid").status == 404)
        // Nothing above was stored.
        #expect(try await grower.send("GET", "/v1/inventory/locations").items.count == 3)
    }

    @Test("names are unique among siblings, codes within the tenant: 409")
    func duplicates() async throws {
        let grower = try await Grower.fresh()
        let (warehouse, area, _) = try await grower.site()
        #expect(
            try await grower.send("POST", "/v1/inventory/locations", json: ["kind": "area", "name": "greenhouse 2", "parentId": warehouse]).status
                == 409)
        _ = try await grower.create("/v1/inventory/locations", ["kind": "location", "name": "Bench 9", "parentId": area, "code": "B9"])
        #expect(
            try await grower.send("POST", "/v1/inventory/locations", json: ["kind": "location", "name": "Bench 10", "parentId": area, "code": "B9"])
                .status
                == 409)
        // Another area may have a Bench 9 of its own.
        let other = try await grower.create("/v1/inventory/locations", ["kind": "area", "name": "Field", "parentId": warehouse])
        #expect(
            try await grower.send("POST", "/v1/inventory/locations", json: ["kind": "location", "name": "Bench 9", "parentId": other]).status == 201)
    }

    @Test("only an empty place is deleted: one with places under it or stock at it answers 409")
    func delete() async throws {
        let grower = try await Grower.fresh()
        let (_, area, location) = try await grower.site()
        #expect(try await grower.send("DELETE", "/v1/inventory/locations/\(area)").status == 409)
        let product = try await grower.create("/v1/inventory/products", ["species": "Buxus sempervirens"])
        _ = try await grower.create("/v1/inventory/stock", ["locationId": location, "productId": product, "quantity": 5])
        #expect(try await grower.send("DELETE", "/v1/inventory/locations/\(location)").status == 409)
        let empty = try await grower.create("/v1/inventory/locations", ["kind": "location", "name": "Bench 1", "parentId": area])
        #expect(try await grower.send("DELETE", "/v1/inventory/locations/\(empty)", headers: ["If-Match": "\"v2\""]).status == 412)
        #expect(try await grower.send("DELETE", "/v1/inventory/locations/\(empty)").status == 204)
        #expect(try await grower.send("GET", "/v1/inventory/locations/\(empty)").status == 404)
    }

    @Test("another tenant's place answers 404, and cannot be a parent")
    func tenantIsolation() async throws {
        let grower = try await Grower.fresh()
        let (warehouse, area, _) = try await grower.site()
        let stranger = try await Grower.fresh(roles: ["owner"])
        #expect(try await stranger.send("GET", "/v1/inventory/locations/\(area)").status == 404)
        #expect(try await stranger.send("PATCH", "/v1/inventory/locations/\(area)", json: ["name": "Mine"]).status == 404)
        #expect(try await stranger.send("DELETE", "/v1/inventory/locations/\(area)").status == 404)
        #expect(
            try await stranger.send("POST", "/v1/inventory/locations", json: ["kind": "area", "name": "Squat", "parentId": warehouse]).status == 422)
        #expect(try await stranger.send("GET", "/v1/inventory/locations").items.isEmpty)
        #expect(try await grower.send("GET", "/v1/inventory/locations/\(area)").string("name") == "Greenhouse 2")
    }

    @Test("a viewer reads but does not write; no token answers 401")
    func roles() async throws {
        let grower = try await Grower.fresh()
        let (warehouse, _, _) = try await grower.site()
        let viewer = try await Grower.fresh(roles: ["viewer"], tenant: grower.tenant)
        #expect(try await viewer.send("GET", "/v1/inventory/locations/\(warehouse)").status == 200)
        #expect(try await viewer.send("POST", "/v1/inventory/locations", json: ["kind": "warehouse", "name": "South"]).status == 403)
        #expect(try await TestHTTP.send("GET", grower.url + "/v1/inventory/locations").status == 401)
    }
}
