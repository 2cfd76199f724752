import Foundation
import Testing

@testable import Search

@Suite("the indexer's batch JSON")
struct BatchJSONTests {
    @Test("documents are grouped by tenant and every field reads back as written, awkward characters included")
    func readsBack() throws {
        let first = UUID()
        let second = UUID()
        let user = UUID()
        let awkward = "Quote \" backslash \\ newline \n tab \t bell \u{7} nul \u{0} <script>é 🦫</script>"
        let documents = [
            IndexedDocument(
                tenant: first, type: "task", id: UUID(), title: awkward, body: "", tags: ["a\"b", "ü"], facets: ["status": "todo", "priority": "2"],
                visibleTo: [user], version: 7, deleted: false, updatedAt: Date(timeIntervalSince1970: 1_764_586_800.123)),
            IndexedDocument(
                tenant: second, type: "project", id: UUID(), title: "", body: "plain", tags: [], facets: [:], visibleTo: nil, version: 1,
                deleted: true, updatedAt: Date(timeIntervalSince1970: -1.5)),
            IndexedDocument(
                tenant: first, type: "task", id: UUID(), title: "second of the first", body: awkward, tags: [], facets: [:], visibleTo: nil,
                version: 2, deleted: false, updatedAt: Date(timeIntervalSince1970: 0)),
        ]
        let json = BatchJSON.encode(documents)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: [[String: Any]]])
        #expect(Set(parsed.keys) == [first.uuidString.lowercased(), second.uuidString.lowercased()])
        let firsts = try #require(parsed[first.uuidString.lowercased()])
        #expect(firsts.count == 2)
        #expect(firsts[0]["title"] as? String == awkward)
        #expect(firsts[0]["doc_id"] as? String == documents[0].id.uuidString.lowercased())
        #expect(firsts[0]["tags"] as? [String] == ["a\"b", "ü"])
        #expect(firsts[0]["facets"] as? [String: String] == ["status": "todo", "priority": "2"])
        #expect(firsts[0]["visible_to"] as? [String] == [user.uuidString.lowercased()])
        #expect(firsts[0]["version"] as? Int == 7)
        #expect(firsts[0]["deleted"] as? Bool == false)
        #expect(firsts[0]["updated_at"] as? String == "2025-12-01T11:00:00.123Z")
        #expect(firsts[1]["body"] as? String == awkward)
        #expect(firsts[1]["updated_at"] as? String == "1970-01-01T00:00:00.000Z")
        let seconds = try #require(parsed[second.uuidString.lowercased()])
        #expect(seconds[0]["visible_to"] is NSNull)
        #expect(seconds[0]["deleted"] as? Bool == true)
        #expect(seconds[0]["updated_at"] as? String == "1969-12-31T23:59:58.500Z")
    }
}
