import Foundation
import TestSupport
import Testing

@testable import Campaigns

@Suite("templates")
struct TemplateTests {
    static let html = "<h1>Hello {{name}}</h1><p>{{offer}}</p><p><a href=\"{{unsubscribeUrl}}\">Unsubscribe</a></p>"

    static func template(_ marketer: Marketer, name: String = "Welcome") async throws -> String {
        try await marketer.create(
            "/v1/campaigns/templates", ["name": name, "subject": "Hi {{name}}", "html": html, "variables": ["offer"]])
    }

    @Test("a template starts at version 1; each save is a new version, on top of the one the editor read")
    func versions() async throws {
        let marketer = try await Marketer.fresh()
        let id = try await Self.template(marketer)
        let read = try await marketer.send("GET", "/v1/campaigns/templates/\(id)")
        #expect(read.json["latestVersion"] as? Int == 1)
        #expect(read.headers["etag"] == "\"v1\"")
        #expect((read.json["latest"] as? [String: Any])?["subject"] as? String == "Hi {{name}}")
        let saved = try await marketer.send(
            "POST", "/v1/campaigns/templates/\(id)/versions", json: ["subject": "Hello {{name}}", "html": Self.html, "variables": ["offer"]],
            headers: ["If-Match": "\"v1\""])
        #expect(saved.status == 201)
        #expect(saved.json["latestVersion"] as? Int == 2)
        let stale = try await marketer.send(
            "POST", "/v1/campaigns/templates/\(id)/versions", json: ["subject": "Lost", "html": Self.html, "variables": ["offer"]],
            headers: ["If-Match": "\"v1\""])
        #expect(stale.status == 412)
        let versions = try await marketer.send("GET", "/v1/campaigns/templates/\(id)/versions")
        #expect(versions.items.compactMap { $0["version"] as? Int } == [2, 1])
        #expect(try await marketer.send("GET", "/v1/campaigns/templates/\(id)/versions/1").string("subject") == "Hi {{name}}")
        #expect(try await marketer.send("GET", "/v1/campaigns/templates/\(id)/versions/9").status == 404)
        #expect(try await marketer.send("GET", "/v1/campaigns/templates/\(id)/versions/zero").status == 404)

        let diff = try await marketer.send("GET", "/v1/campaigns/templates/\(id)/diff?from=1&to=2")
        #expect(diff.status == 200)
        let subject = try #require(diff.json["subject"] as? [String: Any])
        #expect(subject["added"] as? Int == 1)
        #expect(subject["removed"] as? Int == 1)
        #expect((diff.json["html"] as? [String: Any])?["added"] as? Int == 0)
        #expect(try await marketer.send("GET", "/v1/campaigns/templates/\(id)/diff?from=1").status == 422)

        let restored = try await marketer.send("POST", "/v1/campaigns/templates/\(id)/versions/1/restore")
        #expect(restored.status == 201)
        #expect(restored.json["latestVersion"] as? Int == 3)
        let latest = try #require(restored.json["latest"] as? [String: Any])
        #expect(latest["subject"] as? String == "Hi {{name}}")
        #expect(latest["restoredFrom"] as? Int == 1)
    }

    @Test(
        "bad templates are refused with the part and reason, and no version is written",
        arguments: [
            ("{{#open}}never closed", "html", "not valid Mustache"),
            ("<p>{{secret}} {{unsubscribeUrl}}</p>", "html", "undeclared variables: secret"),
            ("<p>no way out</p>", "html", "{{unsubscribeUrl}}"),
            ("{{=<% %>=}}<%unsubscribeUrl%>", "html", "delimiters"),
            ("{{> footer}} {{unsubscribeUrl}}", "html", "unknown partials: footer"),
        ])
    func refused(html: String, part: String, reason: String) async throws {
        let marketer = try await Marketer.fresh()
        let answer = try await marketer.send("POST", "/v1/campaigns/templates", json: ["name": "Bad", "subject": "S", "html": html])
        #expect(answer.status == 422)
        let errors = answer.json["errors"] as? [[String: Any]] ?? []
        #expect(errors.contains { $0["field"] as? String == part && ($0["message"] as? String)?.contains(reason) == true }, "\(errors)")
        #expect(try await marketer.send("GET", "/v1/campaigns/templates").items.isEmpty)
    }

    @Test("other bad input: a multi-line subject, bad variable names, a transactional template may omit the unsubscribe link")
    func otherInput() async throws {
        let marketer = try await Marketer.fresh()
        #expect(try await marketer.send("POST", "/v1/campaigns/templates", json: ["name": "A", "subject": "a\nb", "html": Self.html]).status == 422)
        #expect(
            try await marketer.send(
                "POST", "/v1/campaigns/templates", json: ["name": "A", "subject": "s", "html": Self.html, "variables": ["1bad"]]
            ).status == 422)
        #expect(
            try await marketer.send(
                "POST", "/v1/campaigns/templates", json: ["name": "A", "subject": "s", "html": Self.html, "variables": ["email"]]
            ).status == 422)
        #expect(try await marketer.send("POST", "/v1/campaigns/templates", json: ["name": "A", "subject": "s"]).status == 422)
        let receipt = try await marketer.send(
            "POST", "/v1/campaigns/templates", json: ["name": "Receipt", "kind": "transactional", "subject": "Your receipt", "html": "<p>Thanks</p>"])
        #expect(receipt.status == 201)
        let id = try #require(receipt.string("id"))
        // Turning it into a marketing template needs the unsubscribe link first.
        #expect(try await marketer.send("PATCH", "/v1/campaigns/templates/\(id)", json: ["kind": "marketing"]).status == 422)
        _ = try await Self.template(marketer, name: "Taken")
        #expect(try await marketer.send("PATCH", "/v1/campaigns/templates/\(id)", json: ["name": "taken"]).status == 409)
    }

    @Test("a preview renders subject, HTML and text with sample data or a real subscriber, escapes HTML, and names missing variables")
    func preview() async throws {
        let marketer = try await Marketer.fresh()
        let id = try await Self.template(marketer)
        let sample = try await marketer.send("POST", "/v1/campaigns/templates/\(id)/preview", json: ["data": ["offer": "<b>50%</b> off"]])
        #expect(sample.status == 200)
        #expect(sample.string("subject") == "Hi Ada Lovelace")
        let html = try #require(sample.string("html"))
        #expect(html.contains("&lt;b&gt;50%&lt;/b&gt; off"))
        #expect(html.contains("https://example.invalid/unsubscribe"))
        // No text part: made from the HTML, links kept.
        let text = try #require(sample.string("text"))
        #expect(text.hasPrefix("Hello Ada Lovelace\n<b>50%</b> off"))
        #expect(text.contains("Unsubscribe (https://example.invalid/unsubscribe)"))
        #expect((sample.json["variables"] as? [String: Any])?["missing"] as? [String] == [])

        let subscriber = try await marketer.subscriber("grace@example.com", name: "Grace", attributes: ["plan": "pro"])
        let real = try await marketer.send("POST", "/v1/campaigns/templates/\(id)/preview", json: ["subscriberId": subscriber])
        #expect(real.string("subject") == "Hi Grace")
        #expect((real.json["variables"] as? [String: Any])?["missing"] as? [String] == ["offer"])
        #expect(try await marketer.send("POST", "/v1/campaigns/templates/\(id)/preview", json: ["subscriberId": UUID().uuidString]).status == 404)
        #expect(try await marketer.send("POST", "/v1/campaigns/templates/\(id)/preview", json: ["version": 7]).status == 404)
        #expect(try await marketer.send("POST", "/v1/campaigns/templates/\(id)/preview", json: ["version": 0]).status == 422)
    }

    @Test("partials are the tenant's: a template includes them; one in use is not deleted")
    func partials() async throws {
        let marketer = try await Marketer.fresh()
        let put = try await marketer.send(
            "PUT", "/v1/campaigns/partials/footer", json: ["body": "<p>ACME · <a href=\"{{unsubscribeUrl}}\">out</a></p>"])
        #expect(put.status == 201)
        #expect(try await marketer.send("PUT", "/v1/campaigns/partials/footer", json: ["body": "<p>{{unsubscribeUrl}}</p>"]).status == 200)
        #expect(try await marketer.send("PUT", "/v1/campaigns/partials/Bad%20Name", json: ["body": "x"]).status == 404)
        #expect(try await marketer.send("PUT", "/v1/campaigns/partials/broken", json: ["body": "{{#x}}"]).status == 422)
        let id = try await marketer.create(
            "/v1/campaigns/templates", ["name": "With footer", "subject": "S", "html": "<p>Hi</p>{{> footer}} {{unsubscribeUrl}}"])
        let rendered = try await marketer.send("POST", "/v1/campaigns/templates/\(id)/preview", json: [:])
        #expect(rendered.string("html")?.contains("<p>https://example.invalid/unsubscribe</p>") == true)
        #expect(try await marketer.send("DELETE", "/v1/campaigns/partials/footer").status == 409)
        #expect(try await Marketer.fresh().send("GET", "/v1/campaigns/partials/footer").status == 404)
        #expect(try await marketer.send("GET", "/v1/campaigns/partials").items.compactMap { $0["name"] as? String } == ["footer"])
    }

    @Test("another tenant's template answers 404 everywhere")
    func isolated() async throws {
        let owner = try await Marketer.fresh()
        let id = try await Self.template(owner)
        let stranger = try await Marketer.fresh()
        for (method, path, body) in [
            ("GET", "/v1/campaigns/templates/\(id)", nil), ("PATCH", "/v1/campaigns/templates/\(id)", ["name": "x"]),
            ("DELETE", "/v1/campaigns/templates/\(id)", nil), ("GET", "/v1/campaigns/templates/\(id)/versions", nil),
            ("GET", "/v1/campaigns/templates/\(id)/versions/1", nil), ("POST", "/v1/campaigns/templates/\(id)/versions/1/restore", nil),
            ("GET", "/v1/campaigns/templates/\(id)/diff?from=1&to=1", nil),
            ("POST", "/v1/campaigns/templates/\(id)/preview", [:] as [String: String]),
            ("POST", "/v1/campaigns/templates/\(id)/versions", ["subject": "s", "html": Self.html]),
        ] as [(String, String, [String: String]?)] {
            #expect(try await stranger.send(method, path, json: body).status == 404, "\(method) \(path)")
        }
    }
}
