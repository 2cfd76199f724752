import Foundation
import ServiceKit
import Testing

@Suite("configuration, paging, ids")
struct ConfigurationAndPagingTests {
    @Test("a missing variable is named in the start-up error")
    func missingVariable() {
        #expect {
            try ServiceConfiguration.fromEnvironment(name: "tasks", defaultPort: 1, Environment([:]))
        } throws: { error in
            (error as? ConfigurationError)?.variable == "DATABASE_URL"
        }
    }

    @Test("a malformed variable is named with what was wrong")
    func malformedVariable() {
        let env = Environment(["DATABASE_URL": "postgres://u:p@h:5432/db", "PORT": "eighty"])
        #expect {
            try ServiceConfiguration.fromEnvironment(name: "tasks", defaultPort: 1, env)
        } throws: { error in
            let error = error as? ConfigurationError
            return error?.variable == "PORT" && error?.description.contains("eighty") == true
        }
    }

    @Test("a cursor survives its round trip and junk is refused")
    func cursor() throws {
        let id = UUID.v7()
        let page = PageRequest(limit: 10, cursor: Cursor.encode(id))
        #expect(try page.decodedCursor(UUID.self) == id)
        #expect(throws: Problem.self) { try PageRequest(limit: 10, cursor: "%%%").decodedCursor(UUID.self) }
    }

    @Test("a limit outside 1...100 is a validation error")
    func limit() {
        #expect(throws: Problem.self) { try PageRequest(["limit": "0"]) }
        #expect(throws: Problem.self) { try PageRequest(["limit": "101"]) }
        #expect(throws: Problem.self) { try PageRequest(["limit": "ten"]) }
        #expect((try? PageRequest(["limit": "100"]))?.limit == 100)
    }

    @Test("UUIDv7 ids carry version 7 and sort by creation time")
    func uuidV7() {
        let earlier = UUID.v7(now: Date(timeIntervalSince1970: 1_700_000_000))
        let later = UUID.v7(now: Date(timeIntervalSince1970: 1_700_000_001))
        #expect(earlier.uuidString.lowercased() < later.uuidString.lowercased())
        #expect(Array(earlier.uuidString)[14] == "7")
    }
}
