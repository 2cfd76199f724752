import Foundation
import TestSupport
import Testing

@testable import PhotoML

@Suite("photo session admin")
struct SessionAdminTests {
    @Test("admins see the sessions by state; a failed session is retried once its photo's bytes are readable, and then completes")
    func retryFailed() async throws {
        let grower = try await Grower.fresh()
        let admin = try await Grower.fresh(roles: ["admin"], tenant: grower.tenant)
        let (_, _, bench) = try await grower.site()
        let uploaded = try await grower.upload(SyntheticImage.jpeg(width: 640, height: 480), fields: ["locationId": bench])
        let session = try #require(uploaded.string("id"))
        let failed = try await PhotoProcessingTests.finished(grower, session)
        #expect(failed.string("state") == "failed")
        #expect(try await grower.send("GET", "/v1/photo-sessions/\(session)/estimation").status == 409)

        let byState = try await admin.send("GET", "/v1/admin/photoml/sessions?state=failed")
        #expect(byState.status == 200)
        #expect((byState.json["counts"] as? [String: Int])?["failed"] == 1)
        #expect((byState.json["counts"] as? [String: Int])?["pending"] == 0)
        #expect(byState.items.compactMap { $0["id"] as? String } == [session])
        #expect(try await admin.send("GET", "/v1/admin/photoml/sessions?state=lost").status == 422)
        #expect(try await grower.send("GET", "/v1/admin/photoml/sessions").status == 403)
        #expect(try await grower.send("POST", "/v1/admin/photoml/sessions/\(session)/retry").status == 403)
        #expect(try await Grower.fresh(roles: ["admin"]).send("POST", "/v1/admin/photoml/sessions/\(session)/retry").status == 404)
        #expect(try await admin.send("POST", "/v1/admin/photoml/sessions/not-a-uuid/retry").status == 404)

        // The bytes are put right in storage (say, restored from a backup), and the session retried.
        let photo = try #require((failed.json["photos"] as? [[String: Any]])?.first?["id"] as? String)
        let (bytes, truth) = try PhotoProcessingTests.fixture()
        try await PhotoMLServer.shared.bucket().put("\(grower.tenant.uuidString.lowercased())/\(photo)", bytes)
        let retried = try await admin.send("POST", "/v1/admin/photoml/sessions/\(session)/retry")
        #expect(retried.status == 202)
        #expect(retried.string("state") == "pending")
        #expect(retried.json["version"] as? Int ?? 0 > failed.json["version"] as? Int ?? 0)
        let done = try await PhotoProcessingTests.finished(grower, session)
        #expect(["completed", "completed_with_warnings"].contains(done.string("state") ?? ""))
        let detected = (done.json["result"] as? [String: Any])?["detected"] as? Int ?? 0
        #expect(abs(detected - truth.plants) <= truth.plants / 7, "\(detected) detected for \(truth.plants) plants")
        #expect(try await admin.send("POST", "/v1/admin/photoml/sessions/\(session)/retry").status == 409)
        let estimation = try await grower.send("GET", "/v1/photo-sessions/\(session)/estimation")
        #expect(estimation.status == 200)
        #expect((estimation.json["estimation"] as? [String: Any])?["chosen"] as? String == "density")
    }
}
