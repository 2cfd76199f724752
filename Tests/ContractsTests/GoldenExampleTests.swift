import Contracts
import Foundation
import Testing

let contractsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("contracts")

func example(_ type: String) throws -> Data {
    try Data(contentsOf: contractsFolder.appendingPathComponent("examples/\(type).json"))
}

func jsonObject(_ data: Data) throws -> NSDictionary {
    try #require(try JSONSerialization.jsonObject(with: data) as? NSDictionary)
}

/// Decodes a golden example as its payload type and encodes it again.
func roundTrip<P: EventPayload>(_ type: P.Type, _ data: Data) throws -> Data {
    try PlatformJSON.encoder.encode(try PlatformJSON.decoder.decode(P.self, from: data))
}

@Suite("golden event examples")
struct GoldenExampleTests {
    static let eventTypes = Topics.all.flatMap(\.eventTypes)

    @Test("every event type of every topic has a golden example and a payload type", arguments: eventTypes)
    func exampleExists(type: String) throws {
        #expect(EventCatalog.payloadTypes[type] != nil)
        #expect(FileManager.default.fileExists(atPath: contractsFolder.appendingPathComponent("examples/\(type).json").path))
    }

    @Test("a golden example decodes and encodes back to the same JSON", arguments: eventTypes)
    func decodesAndEncodes(type: String) throws {
        let data = try example(type)
        let payloadType = try #require(EventCatalog.payloadTypes[type])
        let encoded = try roundTrip(payloadType, data)
        #expect(try jsonObject(encoded) == jsonObject(data))
    }

    @Test("no example exists for an event type the registry does not know")
    func noStrayExamples() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: contractsFolder.appendingPathComponent("examples").path)
        let types = Set(files.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) })
        #expect(types == Set(Self.eventTypes))
    }

    @Test("an example missing a required field does not decode")
    func missingFieldFails() throws {
        var object = try #require(try JSONSerialization.jsonObject(with: try example(TaskChanged.created)) as? [String: Any])
        object.removeValue(forKey: "version")
        let data = try JSONSerialization.data(withJSONObject: object)
        #expect(throws: DecodingError.self) { try PlatformJSON.decoder.decode(TaskChanged.self, from: data) }
    }

    @Test("an envelope survives the trip through Kafka headers")
    func envelopeHeaders() throws {
        let payload = try PlatformJSON.decoder.decode(TaskChanged.self, from: try example(TaskChanged.created))
        let envelope = try EventEnvelope.make(
            payload, type: TaskChanged.created, on: Topics.tasksTask, source: "/services/tasks", tenantID: payload.tenantId,
            time: Date(timeIntervalSince1970: 1_800_000_000.125), traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        let headers = Dictionary(uniqueKeysWithValues: envelope.headers)
        let back = try EventEnvelope(topic: envelope.topic, key: envelope.key, headers: headers, data: envelope.data)
        #expect(back == envelope)
        #expect(headers["ce_specversion"] == "1.0")
        #expect(headers["ce_subject"] == "tasks/\(payload.taskId.uuidString.lowercased())")
    }

    @Test("an envelope without ce_id is refused")
    func envelopeMissingHeader() {
        #expect(throws: EventEnvelope.HeaderError.self) {
            try EventEnvelope(topic: "t", key: "k", headers: ["ce_specversion": "1.0"], data: Data())
        }
    }
}
