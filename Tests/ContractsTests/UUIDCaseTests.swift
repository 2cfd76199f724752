import Contracts
import Foundation
import Testing

struct Identified: Codable, Equatable {
    var id: UUID
    var parent: UUID?
    var members: [UUID]
    var owners: [UUID]?
}

@Suite("UUIDs in JSON")
struct UUIDCaseTests {
    /// Whether `text` holds a UUID with an upper-case hex digit.
    static func hasUpperCaseUUID(_ text: String) -> Bool {
        text.matches(of: /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/)
            .contains { String(text[$0.range]) != String(text[$0.range]).lowercased() }
    }

    @Test("are written lower-case whatever the field's shape, and read in either case")
    func lowerCase() throws {
        let id = UUID()
        let other = UUID()
        let value = Identified(id: id, parent: other, members: [id, other], owners: [other])
        let json = String(decoding: try PlatformJSON.encoder.encode(value), as: UTF8.self)
        #expect(json.contains(id.uuidString.lowercased()) && json.contains(other.uuidString.lowercased()))
        #expect(!Self.hasUpperCaseUUID(json))
        let upperJSON = json.replacingOccurrences(of: id.uuidString.lowercased(), with: id.uuidString)
        #expect(try PlatformJSON.decoder.decode(Identified.self, from: Data(upperJSON.utf8)) == value)
    }

    @Test(
        "golden examples and the AsyncAPI document hold lower-case UUIDs only, and payloads encode them so",
        arguments: Topics.all.flatMap(\.eventTypes))
    func goldenExamples(type: String) throws {
        let text = String(decoding: try example(type), as: UTF8.self)
        #expect(!Self.hasUpperCaseUUID(text))
        let asyncAPI = try String(contentsOf: contractsFolder.appendingPathComponent("asyncapi.yaml"), encoding: .utf8)
        #expect(!Self.hasUpperCaseUUID(asyncAPI))
    }
}
