import Foundation
import Hummingbird
import HummingbirdTesting
import ServiceKit
import Testing

struct Widget: Decodable {
    var name: String
    var count: Int
}

func problemRouter() -> Router<ServiceRequestContext> {
    let router = Router<ServiceRequestContext>.service(readiness: Readiness())
    router.post("widgets") { request, context -> HTTPResponse.Status in
        let widget = try await request.decodeJSON(Widget.self, context: context)
        var v = Validator()
        _ = v.text(widget.name, "name", max: 5)
        try v.finish()
        return .created
    }
    router.post("widgets/:name") { _, _ -> HTTPResponse.Status in .created }
    router.get("boom") { _, _ -> String in
        struct Secret: Error { let sql = "SELECT * FROM auth.users" }
        throw Secret()
    }
    return router
}

func problem(_ response: TestResponse) -> [String: Any] {
    #expect(response.headers[.contentType] == "application/problem+json")
    return ((try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any]) ?? [:]
}

@Suite("errors as RFC 9457 problem details")
struct ProblemTests {
    @Test("malformed JSON answers 400 problem+json")
    func malformed() async throws {
        try await Application(router: problemRouter()).test(.router) { client in
            try await client.execute(uri: "/widgets", method: .post, body: ByteBuffer(string: "{\"name\": ")) { response in
                #expect(response.status == .badRequest)
                #expect(problem(response)["status"] as? Int == 400)
            }
        }
    }

    @Test("a missing field answers 422 naming the field")
    func missingField() async throws {
        try await Application(router: problemRouter()).test(.router) { client in
            try await client.execute(uri: "/widgets", method: .post, body: ByteBuffer(string: #"{"name":"a"}"#)) { response in
                #expect(response.status == .unprocessableContent)
                let errors = problem(response)["errors"] as? [[String: String]] ?? []
                #expect(errors == [["field": "count", "message": "is required"]])
            }
        }
    }

    @Test("a field of the wrong type answers 422 naming the field")
    func wrongType() async throws {
        try await Application(router: problemRouter()).test(.router) { client in
            try await client.execute(uri: "/widgets", method: .post, body: ByteBuffer(string: #"{"name":"a","count":"many"}"#)) { response in
                #expect(response.status == .unprocessableContent)
                let errors = problem(response)["errors"] as? [[String: String]] ?? []
                #expect(errors.first?["field"] == "count")
            }
        }
    }

    @Test("a JSON array instead of an object answers 400")
    func notAnObject() async throws {
        try await Application(router: problemRouter()).test(.router) { client in
            try await client.execute(uri: "/widgets", method: .post, body: ByteBuffer(string: "[1,2]")) { response in
                #expect(response.status == .badRequest)
            }
        }
    }

    @Test("a validation failure answers 422 with every invalid field")
    func validation() async throws {
        try await Application(router: problemRouter()).test(.router) { client in
            try await client.execute(uri: "/widgets", method: .post, body: ByteBuffer(string: #"{"name":"far too long","count":1}"#)) { response in
                #expect(response.status == .unprocessableContent)
                let errors = problem(response)["errors"] as? [[String: String]] ?? []
                #expect(errors.map { $0["field"] } == ["name"])
            }
        }
    }

    @Test("an unexpected error answers 500 without its cause")
    func unexpected() async throws {
        try await Application(router: problemRouter()).test(.router) { client in
            try await client.execute(uri: "/boom", method: .get) { response in
                #expect(response.status == .internalServerError)
                let text = String(buffer: response.body)
                #expect(!text.contains("SELECT"))
                #expect(problem(response)["title"] as? String == "Internal Server Error")
            }
        }
    }

    @Test("an unknown route answers 404 problem+json")
    func unknownRoute() async throws {
        try await Application(router: problemRouter()).test(.router) { client in
            try await client.execute(uri: "/nowhere", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(problem(response)["status"] as? Int == 404)
            }
        }
    }

    @Test("the request id is echoed when given and made when not")
    func requestID() async throws {
        try await Application(router: problemRouter()).test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get, headers: [.requestID: "abc-123"]) { response in
                #expect(response.headers[.requestID] == "abc-123")
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.headers[.requestID]?.count == 36)
            }
        }
    }

    @Test("readyz answers 503 while a check fails, and metrics are served")
    func readiness() async throws {
        let readiness = Readiness()
        readiness.add("database") { false }
        let router = Router<ServiceRequestContext>.service(readiness: readiness)
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            }
        }
    }

    @Test("a NUL in a JSON string, the path or the query answers 400; an escaped backslash before u0000 is only text (fuzzing found 500s)")
    func nulCharacters() async throws {
        try await Application(router: problemRouter()).test(.router) { client in
            for body in [#"{"name": "a\u0000", "count": 1}"#, #"{"name": "\\\u0000", "count": 1}"#] {
                try await client.execute(uri: "/widgets", method: .post, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .badRequest)
                    #expect((problem(response)["detail"] as? String)?.contains("NUL") == true)
                }
            }
            try await client.execute(uri: "/widgets", method: .post, body: ByteBuffer(string: #"{"name": "\\u0000", "count": 1}"#)) {
                response in
                #expect(response.status == .unprocessableContent)  // the name is 7 characters of text, over the limit of 5
            }
            for uri in ["/widgets?kind=%00", "/widgets/a%00b"] {
                try await client.execute(uri: uri, method: .post, body: ByteBuffer(string: #"{"name": "a", "count": 1}"#)) { response in
                    #expect(response.status == .badRequest)
                }
            }
        }
    }
}
