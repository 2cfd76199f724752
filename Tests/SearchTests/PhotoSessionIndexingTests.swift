import Contracts
import Foundation
import TestSupport
import Testing

@testable import Search

func photoSessionFinished(
    tenant: UUID, session: UUID = .v7(), location: UUID = .v7(), locationName: String, productName: String?, state: String = "completed",
    version: Int = 2
) throws -> EventEnvelope {
    let payload = PhotoSessionFinished(
        sessionId: session, tenantId: tenant, locationId: location, locationName: locationName, productId: productName == nil ? nil : .v7(),
        productName: productName, uploadedBy: UUID.v7().uuidString.lowercased(), state: state, photos: 1, detected: 412,
        counts: [.init(name: "plant", count: 412)], estimate: .init(method: "density", count: 420, low: 400, high: 440),
        warnings: state == "completed" ? [] : ["no_calibration"], error: nil, version: version, occurredAt: Date())
    return try EventEnvelope.make(
        payload, type: PhotoSessionFinished.type(of: state), on: Topics.photomlSession, source: "/services/photoml", tenantID: tenant)
}

@Suite("indexing photo sessions")
struct PhotoSessionIndexingTests {
    @Test("an ended photo session is found by its location and product names, filtered by location, and a retried one replaces it")
    func byLocationAndProduct() async throws {
        _ = try await SearchServer.shared.get()
        try await withDatabase("search") { database in
            let indexer = testIndexer(database)
            let tenant = UUID.v7()
            let session = UUID.v7()
            let location = UUID.v7()
            try await indexer.handle(
                try photoSessionFinished(
                    tenant: tenant, session: session, location: location, locationName: "Greenhouse bench", productName: "Lavandula Hidcote",
                    state: "completed_with_warnings", version: 2))
            try await indexer.handle(try photoSessionFinished(tenant: tenant, locationName: "Cold frame", productName: nil))
            #expect(hitTitles(try await search("q=lavandula&types=photo_session", tenant: tenant)) == ["Greenhouse bench · Lavandula Hidcote"])
            #expect(hitTitles(try await search("q=frame", tenant: tenant)) == ["Cold frame"])
            let byLocation = try await search("locationId=\(location.uuidString.uppercased())", tenant: tenant)
            #expect(hitTitles(byLocation) == ["Greenhouse bench · Lavandula Hidcote"])
            #expect((byLocation.json["hits"] as? [[String: Any]])?.first?["type"] as? String == "photo_session")
            // Retried and completed again: the newer version wins, an older redelivery does not.
            try await indexer.handle(
                try photoSessionFinished(
                    tenant: tenant, session: session, location: location, locationName: "Greenhouse bench", productName: "Salvia Caradonna",
                    version: 4))
            try await indexer.handle(
                try photoSessionFinished(
                    tenant: tenant, session: session, location: location, locationName: "Greenhouse bench", productName: "Lavandula Hidcote",
                    version: 2))
            #expect(hitTitles(try await search("q=lavandula", tenant: tenant)).isEmpty)
            #expect(hitTitles(try await search("q=salvia", tenant: tenant)) == ["Greenhouse bench · Salvia Caradonna"])
            #expect(hitTitles(try await search("q=salvia", tenant: .v7())).isEmpty)
        }
    }
}
