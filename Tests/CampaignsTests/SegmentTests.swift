import Foundation
import Persistence
import TestSupport
import Testing

@testable import Campaigns

@Suite("the segment language")
struct SegmentLanguageTests {
    @Test("and binds tighter than or, not tighter still; fields, operators and values parse to their kinds")
    func precedence() throws {
        let parsed = try SegmentExpression.parse("attributes.plan = \"pro\" or not name contains 'x' and attributes.seats >= 10")
        #expect(
            parsed
                == .or(
                    .compare(.attribute(["plan"]), .equal, .string("pro")),
                    .and(.not(.compare(.name, .contains, .string("x"))), .compare(.attribute(["seats"]), .greaterOrEqual, .number(10)))))
        let list = UUID()
        #expect(
            try SegmentExpression.parse("(in_list(\"\(list)\") and attributes.a.b exists) or attributes.c in (1, 2)")
                == .or(
                    .and(.onList(list, confirmedOnly: false), .exists(.attribute(["a", "b"]))), .oneOf(.attribute(["c"]), [.number(1), .number(2)])))
        #expect(try SegmentExpression.parse("attributes.vip = true AND Email ENDS_WITH \"@x.org\"").lists.isEmpty)
    }

    @Test(
        "a syntax error says where and why",
        arguments: [
            ("attributes.plan = ", 18, "ends where a value"),
            ("plan = 'pro'", 0, "unknown field"),
            ("email = 'a' and", 15, "ends where a condition"),
            ("(email = 'a'", 12, "expected ')'"),
            ("email = \"open", 8, "never closed"),
            ("attributes.x ~ 1", 13, "unexpected character"),
            ("email > 3", 8, "compared with a string"),
            ("name contains 3", 14, "compared with a string"),
            ("created_at > 'yesterday'", 13, "a date in quotes"),
            ("attributes.x in (1, 'a')", 24, "of one kind"),
            ("email exists", 6, "only attributes"),
            ("in_list('not-a-uuid')", 8, "a list id in quotes"),
            ("attributes.x = 1 attributes.y = 2", 17, "unexpected"),
            ("attributes.x < null", 15, "null is only compared"),
        ])
    func syntaxErrors(text: String, position: Int, message: String) {
        #expect {
            try SegmentExpression.parse(text)
        } throws: { error in
            guard let error = error as? SegmentSyntaxError else { return false }
            return error.position == position && error.message.contains(message)
        }
    }

    @Test("limits: length, depth and number of conditions")
    func limits() {
        #expect(throws: SegmentSyntaxError.self) {
            try SegmentExpression.parse(String(repeating: "(", count: 40) + "email = 'a'" + String(repeating: ")", count: 40))
        }
        #expect(throws: SegmentSyntaxError.self) { try SegmentExpression.parse(String(repeating: "not ", count: 40) + "email = 'a'") }
        #expect(throws: SegmentSyntaxError.self) {
            try SegmentExpression.parse(Array(repeating: "email = 'a'", count: 201).joined(separator: " or "))
        }
        #expect(throws: SegmentSyntaxError.self) { try SegmentExpression.parse(String(repeating: " ", count: 4001)) }
    }

    @Test("the compiled SQL holds no value or attribute key: every one is a parameter")
    func parameterised() throws {
        let hostile = "x'); DROP TABLE campaigns.subscribers; --"
        let sql = SegmentSQL.condition(
            try SegmentExpression.parse("attributes.k = \"\(hostile)\" or email contains \"\(hostile)\" or attributes.k in (\"\(hostile)\")"))
        #expect(!sql.text.contains("DROP"))
        #expect(!sql.text.contains("'x"))
        #expect(sql.binds.count == 5)
    }
}

@Suite("segments")
struct SegmentTests {
    /// A tenant with five subscribers of known attributes, two of them on a list (one confirmed).
    static func audience() async throws -> (Marketer, String) {
        let marketer = try await Marketer.fresh()
        let list = try await marketer.create("/v1/campaigns/lists", ["name": "Insiders", "optIn": "double"])
        let ada = try await marketer.subscriber("ada@example.com", name: "Ada", attributes: ["plan": "pro", "seats": 12, "vip": true], lists: [list])
        _ = try await marketer.subscriber(
            "bob@example.org", name: "Bob", attributes: ["plan": "free", "seats": 1, "city": "100%_sure"], lists: [list])
        _ = try await marketer.subscriber(
            "cy@example.com", name: "Cy", attributes: ["plan": "pro", "seats": 3, "vip": false, "nested": ["tier": "gold"]])
        _ = try await marketer.subscriber("di@test.net", name: "Di", attributes: ["plan": NSNull()])
        _ = try await marketer.subscriber("ed@example.com", name: "Ed")
        _ = try await marketer.send("PATCH", "/v1/campaigns/lists/\(list)/subscribers/\(ada)", json: ["status": "confirmed"])
        return (marketer, list)
    }

    static func matches(_ marketer: Marketer, _ expression: String) async throws -> [String] {
        let answer = try await marketer.send("POST", "/v1/campaigns/segments/preview", json: ["expression": expression])
        #expect(answer.status == 200, "\(expression): \(String(decoding: answer.body, as: UTF8.self))")
        #expect(answer.json["count"] as? Int == answer.items.count)
        return answer.items.compactMap { $0["email"] as? String }.sorted()
    }

    @Test("conditions on attributes, fields and memberships match the subscribers they describe")
    func matching() async throws {
        let (marketer, list) = try await Self.audience()
        let cases: [(String, [String])] = [
            ("attributes.plan = 'pro'", ["ada@example.com", "cy@example.com"]),
            ("attributes.plan != 'pro'", ["bob@example.org", "di@test.net", "ed@example.com"]),
            ("attributes.seats > 2", ["ada@example.com", "cy@example.com"]),
            ("attributes.seats <= 3 and attributes.plan = 'pro'", ["cy@example.com"]),
            ("attributes.vip = true", ["ada@example.com"]),
            ("attributes.vip != true", ["bob@example.org", "cy@example.com", "di@test.net", "ed@example.com"]),
            ("attributes.plan = null", ["di@test.net", "ed@example.com"]),
            ("attributes.vip exists", ["ada@example.com", "cy@example.com"]),
            ("not attributes.vip exists", ["bob@example.org", "di@test.net", "ed@example.com"]),
            ("attributes.nested.tier = 'gold'", ["cy@example.com"]),
            ("attributes.seats in (1, 3)", ["bob@example.org", "cy@example.com"]),
            ("attributes.plan in ('free', 'none')", ["bob@example.org"]),
            ("attributes.city contains '%_'", ["bob@example.org"]),
            ("attributes.city contains '_'", ["bob@example.org"]),
            ("email ends_with '@example.com'", ["ada@example.com", "cy@example.com", "ed@example.com"]),
            ("email = 'ADA@example.com'", ["ada@example.com"]),
            ("name starts_with 'd'", ["di@test.net"]),
            ("in_list('\(list)')", ["ada@example.com", "bob@example.org"]),
            ("confirmed_in('\(list)')", ["ada@example.com"]),
            ("not in_list('\(list)') and attributes.plan = 'pro'", ["cy@example.com"]),
            (
                "created_at > '2000-01-01' and status = 'enabled'",
                ["ada@example.com", "bob@example.org", "cy@example.com", "di@test.net", "ed@example.com"]
            ),
            ("created_at < '2000-01-01T00:00:00Z'", []),
        ]
        for (expression, expected) in cases {
            #expect(try await Self.matches(marketer, expression) == expected, "\(expression)")
        }
    }

    @Test("injection-shaped input is only ever data: it matches nothing and the table stays")
    func injection() async throws {
        let (marketer, _) = try await Self.audience()
        for expression in [
            "email = \"x'; DROP TABLE campaigns.subscribers; --\"",
            "attributes.plan = \"pro' OR '1'='1\"",
            "name contains \"%' OR 1=1 --\"",
            "attributes.seats in ('1); DELETE FROM campaigns.subscribers; --')",
        ] {
            #expect(try await Self.matches(marketer, expression).isEmpty, "\(expression)")
        }
        #expect(try await marketer.send("POST", "/v1/campaigns/segments/preview", json: ["expression": "attributes.a'b = 1"]).status == 422)
        #expect(try await marketer.send("GET", "/v1/campaigns/subscribers").items.count == 5)
    }

    @Test("a saved segment lists who it matches now; bad expressions, foreign lists and other tenants are refused")
    func saved() async throws {
        let (marketer, list) = try await Self.audience()
        let id = try await marketer.create("/v1/campaigns/segments", ["name": "Pro plan", "expression": "attributes.plan = 'pro'"])
        let matched = try await marketer.send("GET", "/v1/campaigns/segments/\(id)/subscribers?limit=1")
        #expect(matched.json["count"] as? Int == 2)
        #expect(matched.items.count == 1)
        #expect(matched.string("nextCursor") != nil)
        #expect(try await marketer.send("POST", "/v1/campaigns/segments", json: ["name": "pro PLAN", "expression": "email = 'a'"]).status == 409)
        let broken = try await marketer.send("POST", "/v1/campaigns/segments", json: ["name": "Broken", "expression": "plan = 'pro'"])
        #expect(broken.status == 422)
        #expect(((broken.json["errors"] as? [[String: Any]])?.first?["message"] as? String)?.contains("at character 1") == true)
        let stranger = try await Marketer.fresh()
        #expect(try await stranger.send("POST", "/v1/campaigns/segments/preview", json: ["expression": "in_list('\(list)')"]).status == 422)
        #expect(try await stranger.send("GET", "/v1/campaigns/segments/\(id)").status == 404)
        #expect(try await stranger.send("GET", "/v1/campaigns/segments/\(id)/subscribers").status == 404)
        #expect(try await stranger.send("DELETE", "/v1/campaigns/segments/\(id)").status == 404)
        let changed = try await marketer.send(
            "PATCH", "/v1/campaigns/segments/\(id)", json: ["expression": "attributes.plan = 'free'"], headers: ["If-Match": "\"v1\""])
        #expect(changed.status == 200)
        #expect(try await marketer.send("GET", "/v1/campaigns/segments/\(id)/subscribers").json["count"] as? Int == 1)
        #expect(try await marketer.send("PATCH", "/v1/campaigns/segments/\(id)", json: ["name": "x"], headers: ["If-Match": "\"v1\""]).status == 412)
        #expect(try await marketer.send("PATCH", "/v1/campaigns/segments/\(id)", json: ["expression": "(("]).status == 422)
        #expect(try await marketer.send("DELETE", "/v1/campaigns/segments/\(id)").status == 204)
    }
}
