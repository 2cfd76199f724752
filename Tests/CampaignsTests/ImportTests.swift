import Foundation
import ServiceKit
import TestSupport
import Testing

@testable import Campaigns

@Suite("CSV reading")
struct CSVReaderTests {
    @Test("records come out the same however the bytes are split: quotes, commas, line breaks, a BOM, CRLF")
    func split() throws {
        let text = "\u{FEFF}email,name,note\r\na@x.test,\"Lovelace, Ada\",\"two\nlines\"\r\nb@x.test,Bob,\"say \"\"hi\"\"\"\nc@x.test,Cy,"
        let bytes = Array(text.utf8)
        var whole = CSVReader()
        let expected = whole.feed(bytes) + (try whole.finish())
        #expect(
            expected.map(\.fields) == [
                ["email", "name", "note"], ["a@x.test", "Lovelace, Ada", "two\nlines"], ["b@x.test", "Bob", "say \"hi\""], ["c@x.test", "Cy", ""],
            ])
        #expect(expected.map(\.line) == [1, 2, 4, 5])
        for size in [1, 2, 3, 7, 13] {
            var reader = CSVReader()
            var records: [CSVReader.Record] = []
            for start in stride(from: 0, to: bytes.count, by: size) {
                // Through JSON between pieces, as the import job keeps it between chunks.
                reader = try JSONDecoder().decode(CSVReader.self, from: try JSONEncoder().encode(reader))
                records += reader.feed(bytes[start..<min(start + size, bytes.count)])
            }
            records += try reader.finish()
            #expect(records == expected, "pieces of \(size)")
        }
        var open = CSVReader()
        _ = open.feed(Array("a,\"never closed\n".utf8))
        #expect(throws: CSVReader.Unclosed.self) { try open.finish() }
    }
}

@Suite("subscriber imports")
struct ImportTests {
    static func upload(_ marketer: Marketer, _ csv: String, query: String = "") async throws -> HTTPAnswer {
        try await marketer.send("POST", "/v1/campaigns/imports\(query)", raw: csv, headers: ["Content-Type": "text/csv"])
    }

    static func finished(_ marketer: Marketer, _ id: String) async throws -> HTTPAnswer {
        _ = try await eventually(timeout: .seconds(60)) {
            ["finished", "failed"].contains(try await marketer.send("GET", "/v1/campaigns/imports/\(id)").string("state") ?? "")
        }
        return try await marketer.send("GET", "/v1/campaigns/imports/\(id)")
    }

    @Test("a CSV of 900 rows: valid rows upserted with attributes from extra columns and put on the list; bad rows reported by line and field")
    func imported() async throws {
        let marketer = try await Marketer.fresh()
        let list = try await marketer.create("/v1/campaigns/lists", ["name": "Imported"])
        var csv = "Email,Name,plan,city\n"
        for index in 0..<900 { csv += "user\(index)@import.test,User \(index),\(index % 2 == 0 ? "pro" : "free"),\"Berlin, DE\"\n" }
        csv += "not-an-address,Broken,pro,x\n"
        csv += "user1@import.test,Again,enterprise,\n"
        let answer = try await Self.upload(marketer, csv, query: "?mode=upsert&listIds=\(list)")
        #expect(answer.status == 202)
        let done = try await Self.finished(marketer, try #require(answer.string("id")))
        #expect(done.string("state") == "finished")
        #expect(done.json["rows"] as? Int == 902)
        #expect(done.json["created"] as? Int == 900)
        #expect(done.json["failed"] as? Int == 1)
        #expect(done.json["skipped"] as? Int == 1)
        #expect(done.json["progress"] as? Double == 1)
        let error = try #require((done.json["errors"] as? [[String: Any]])?.first)
        #expect(error["line"] as? Int == 902)
        #expect(error["field"] as? String == "email")
        let again = try await marketer.send("GET", "/v1/campaigns/subscribers?q=user1@import.test")
        let user1 = try #require(again.items.first { $0["email"] as? String == "user1@import.test" })
        // An address twice in one file: its last row wins.
        #expect(user1["name"] as? String == "Again")
        #expect((user1["attributes"] as? [String: Any])?["plan"] as? String == "enterprise")
        let user3 = try #require(try await marketer.send("GET", "/v1/campaigns/subscribers?q=user3@import.test").items.first)
        #expect((user3["attributes"] as? [String: Any])?["city"] as? String == "Berlin, DE")
        #expect(try await marketer.send("GET", "/v1/campaigns/lists/\(list)").json["counts"] as? [String: Int] == ["confirmed": 900])

        // Skip leaves existing subscribers as they are; upsert merges attributes.
        let skip = try await Self.upload(marketer, "email,name,plan\nuser2@import.test,Changed,gold\nnew@import.test,New,gold\n", query: "?mode=skip")
        let skipped = try await Self.finished(marketer, try #require(skip.string("id")))
        #expect(skipped.json["created"] as? Int == 1)
        #expect(skipped.json["skipped"] as? Int == 1)
        let upsert = try await Self.upload(marketer, "email,tier\nuser2@import.test,gold\n")
        let updated = try await Self.finished(marketer, try #require(upsert.string("id")))
        #expect(updated.json["updated"] as? Int == 1)
        let user2 = try #require(try await marketer.send("GET", "/v1/campaigns/subscribers?q=user2@import.test").items.first)
        #expect(user2["name"] as? String == "User 2")
        #expect((user2["attributes"] as? [String: Any])?["tier"] as? String == "gold")
        #expect((user2["attributes"] as? [String: Any])?["plan"] as? String == "pro")
    }

    @Test("a file of several megabytes is kept a chunk at a time as it arrives; rows that straddle chunks import whole")
    func severalChunks() async throws {
        let marketer = try await Marketer.fresh()
        let note = String(repeating: "long note, with commas; ", count: 150)
        var csv = "email,note\n"
        for index in 0..<800 { csv += "big\(index)@chunks.test,\"\(note)\(index)\"\n" }
        #expect(csv.utf8.count > 2 * ImportStore.chunkBytes)
        let answer = try await Self.upload(marketer, csv)
        #expect(answer.status == 202)
        #expect(answer.json["totalBytes"] as? Int == csv.utf8.count)
        let done = try await Self.finished(marketer, try #require(answer.string("id")))
        #expect(done.json["created"] as? Int == 800)
        #expect(done.json["failed"] as? Int == 0)
        let last = try #require(try await marketer.send("GET", "/v1/campaigns/subscribers?q=big799@chunks.test").items.first)
        #expect((last["attributes"] as? [String: Any])?["note"] as? String == note + "799")
    }

    @Test("an upload that never completes is failed after the upload window, and its chunks go")
    func abandoned() async throws {
        let marketer = try await Marketer.fresh()
        let id = UUID.v7()
        try await withDatabase("campaigns") { database in
            let store = ImportStore(database: database)
            try await store.begin(id: id, mode: .upsert, lists: [], first: Array("email\na@x.test\n".utf8), actor: "test", tenant: marketer.tenant)
            #expect(try await store.get(id, tenant: marketer.tenant).state == "receiving")
            try await store.abandon(id, reason: "the upload did not finish", tenant: marketer.tenant)
            let failed = try await store.get(id, tenant: marketer.tenant)
            #expect(failed.state == "failed")
            #expect(failed.error == "the upload did not finish")
            let chunks = try await database.withTenant(marketer.tenant) { connection in
                var count = -1
                for try await found in try await connection.query(
                    "SELECT count(*)::int FROM campaigns.subscriber_import_chunks WHERE import_id = \(id)", logger: database.logger
                ).decode(Int.self) {
                    count = found
                }
                return count
            }
            #expect(chunks == 0)
            // A finished import is not abandoned after the fact.
            try await store.abandon(id, reason: "again", tenant: marketer.tenant)
            #expect(try await store.get(id, tenant: marketer.tenant).error == "the upload did not finish")
        }
    }

    @Test("rows past the plan's subscriber quota are refused by name; the rest are imported")
    func quota() async throws {
        let marketer = try await Marketer.fresh()
        var csv = "email\n"
        for index in 0..<1100 { csv += "q\(index)@quota.test\n" }
        let answer = try await Self.upload(marketer, csv)
        let done = try await Self.finished(marketer, try #require(answer.string("id")))
        #expect(done.json["created"] as? Int == 1000)
        #expect(done.json["failed"] as? Int == 100)
        #expect(((done.json["errors"] as? [[String: Any]])?.first?["reason"] as? String)?.contains("over the plan's 1000 subscribers") == true)
    }

    @Test("bad CSV: no header with an email column, an empty body, a bad mode or a foreign list are refused; an unclosed quote fails the import")
    func refused() async throws {
        let marketer = try await Marketer.fresh()
        #expect(try await Self.upload(marketer, "name,plan\nAda,pro\n").status == 422)
        #expect(try await Self.upload(marketer, "").status == 422)
        #expect(try await Self.upload(marketer, "email\na@x.test\n", query: "?mode=merge").status == 422)
        #expect(try await Self.upload(marketer, "email\na@x.test\n", query: "?listIds=nope").status == 422)
        #expect(try await Self.upload(marketer, "email\na@x.test\n", query: "?listIds=\(UUID())").status == 422)
        let broken = try await Self.upload(marketer, "email,name\na@x.test,\"never closed\n")
        let failed = try await Self.finished(marketer, try #require(broken.string("id")))
        #expect(failed.string("state") == "failed")
        #expect(failed.string("error")?.contains("never closed") == true)
        #expect(try await Marketer.fresh().send("GET", "/v1/campaigns/imports/\(try #require(broken.string("id")))").status == 404)
        let viewer = try await Marketer.fresh(roles: ["viewer"], tenant: marketer.tenant)
        #expect(try await Self.upload(viewer, "email\na@x.test\n").status == 403)
    }

    @Test("the export streams every subscriber as CSV, with cells a spreadsheet would run as formulas defused")
    func exported() async throws {
        let marketer = try await Marketer.fresh()
        _ = try await marketer.subscriber("ada@export.test", name: "=HYPERLINK(\"http://x\")", attributes: ["plan": "pro"])
        _ = try await marketer.subscriber("bob@export.test", name: "Bob, Jr.")
        let export = try await marketer.send("GET", "/v1/campaigns/subscribers/export.csv")
        #expect(export.status == 200)
        #expect(export.contentType.hasPrefix("text/csv"))
        var reader = CSVReader()
        let records = reader.feed(Array(export.body)) + (try reader.finish())
        #expect(records.first?.fields == ["email", "name", "status", "attributes", "created_at"])
        #expect(records.dropFirst().map { $0.fields[0] } == ["ada@export.test", "bob@export.test"])
        #expect(records[1].fields[1] == "'=HYPERLINK(\"http://x\")")
        #expect(records[2].fields[1] == "Bob, Jr.")
        #expect(try await Marketer.fresh().send("GET", "/v1/campaigns/subscribers/export.csv").body.count < 60)
    }
}
