import Contracts
import Foundation
import Messaging
import TestSupport
import Testing

@testable import PhotoML

@Suite("photo session events")
struct SessionEventTests {
    static func finished(_ reader: TopicReader, session: String) async throws -> EventEnvelope? {
        guard
            let message = try await reader.first(timeout: .seconds(60), where: { $0.key == session })
        else { return nil }
        return try EventEnvelope(topic: message.topic, key: message.key, headers: message.headers, data: Data(message.value))
    }

    @Test("a completed session announces photoml.session.v1 with its location and product names, counts, estimate and uploader")
    func completed() async throws {
        let reader = try TopicReader(topic: Topics.photomlSession.name)
        let grower = try await Grower.fresh()
        let (_, _, bench) = try await grower.site()
        let product = try await grower.create("/v1/inventory/products", ["species": "Lavandula", "variety": "Hidcote"])
        let (bytes, _) = try PhotoProcessingTests.fixture()
        let session = try #require(try await grower.upload(bytes, fields: ["locationId": bench, "productId": product]).string("id"))
        let answer = try await PhotoProcessingTests.finished(grower, session)
        let event = try #require(try await Self.finished(reader, session: session))
        await reader.close()
        let state = try #require(answer.string("state"))
        #expect(event.type == PhotoSessionFinished.type(of: state))
        #expect(event.tenantID == grower.tenant)
        let payload = try event.decode(PhotoSessionFinished.self)
        #expect(payload.locationName == "Bench 7")
        #expect(payload.productName == "Lavandula Hidcote")
        #expect(payload.uploadedBy == grower.subject.uuidString.lowercased())
        #expect(payload.detected == (answer.json["result"] as? [String: Any])?["detected"] as? Int)
        #expect(payload.counts.first?.name == "plant")
        #expect(payload.estimate != nil)
        #expect(payload.warnings.contains("no_calibration"))
        #expect(payload.version == answer.json["version"] as? Int)
    }

    @Test("a failed session announces photoml.session.failed with the reason, once")
    func failed() async throws {
        let reader = try TopicReader(topic: Topics.photomlSession.name)
        let grower = try await Grower.fresh()
        let (_, _, bench) = try await grower.site()
        let uploaded = try await grower.upload(SyntheticImage.jpeg(width: 640, height: 480), fields: ["locationId": bench])
        let session = try #require(uploaded.string("id"))
        _ = try await PhotoProcessingTests.finished(grower, session)
        let event = try #require(try await Self.finished(reader, session: session))
        #expect(event.type == PhotoSessionFinished.failed)
        let payload = try event.decode(PhotoSessionFinished.self)
        #expect(payload.error?.contains("could not be decoded") == true)
        #expect(payload.estimate == nil)
        try await Task.sleep(for: .seconds(1))
        #expect(reader.messages.filter { $0.key == session }.count == 1)
        await reader.close()
    }
}
