import Foundation
import ServiceKit
import TestSupport

@testable import PhotoML

/// One photoml service for the suite, trusting a test issuer's JWKS, keeping photos in an
/// S3 bucket of moto_server. One service only: every replica's job worker takes photos to
/// process from the one schema, so all of them must reach the same storage.
struct PhotoMLServer {
    static let shared = PhotoMLServer()
    private let started = StartOnce<(String, TestIssuer, S3ObjectStore)> {
        let issuer = try await TestIssuer.start()
        let store = try await MotoServer.shared.store()
        var configuration = PhotoMLConfiguration.forTests(TestEnvironment.configuration("photoml", jwksURL: issuer.jwksURL))
        // The benchmark's 12 MP photos are larger than the tests' limit.
        if ProcessInfo.processInfo.environment["BENCH_PHOTOML"] != nil { configuration.maxPhotoBytes = 50 * 1024 * 1024 }
        configuration.s3 = .init(endpoint: store.endpoint, bucket: store.bucket, region: "us-east-1", accessKey: "testing", secretKey: "testing")
        let server = try await TestServer.start { try photoMLHost(configuration).application(onServerRunning: $0) }
        return (server.baseURL, issuer, store)
    }

    func get() async throws -> (url: String, issuer: TestIssuer) {
        let (url, issuer, _) = try await started.value()
        return (url, issuer)
    }

    /// The bucket the service keeps photos in.
    func bucket() async throws -> S3ObjectStore { try await started.value().2 }
}

extension PhotoMLConfiguration {
    /// Photos in a directory of their own (a host that is built, not run); uploads up to
    /// 2 MB, so the limit is quick to pass.
    static func forTests(_ service: ServiceConfiguration) -> Self {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("photoml-\(UUID().uuidString)")
        return PhotoMLConfiguration(service: service, storageDirectory: directory.path, maxPhotoBytes: 2 * 1024 * 1024)
    }
}

/// A caller in a fresh tenant (or, with `tenant`, another caller of the same one).
struct Grower {
    let url: String
    let token: String
    let tenant: UUID
    let subject: UUID

    static func fresh(roles: [String] = ["member"], tenant: UUID = .v7()) async throws -> Grower {
        let (url, issuer) = try await PhotoMLServer.shared.get()
        let subject = UUID.v7()
        return Grower(url: url, token: try await issuer.token(tenant: tenant, subject: subject, roles: roles), tenant: tenant, subject: subject)
    }

    func send(
        _ method: String, _ path: String, json: Any? = nil, raw: String? = nil, bytes: [UInt8]? = nil, headers: [String: String] = [:]
    ) async throws -> HTTPAnswer {
        try await TestHTTP.send(method, url + path, json: json, raw: raw, bytes: bytes, token: token, headers: headers)
    }

    /// Uploads a photo with the form fields given.
    func upload(
        _ image: [UInt8], fields: [String: String], filename: String = "bench.jpg", contentType: String = "image/jpeg"
    ) async throws -> HTTPAnswer {
        var form = MultipartBody()
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) { form.field(name, value) }
        form.file(filename: filename, contentType: contentType, image)
        return try await TestHTTP.send("POST", url + "/v1/photos", bytes: form.finished(), token: token, headers: ["Content-Type": form.contentType])
    }

    /// POSTs `body` and answers the new resource's id; anything but 201 throws.
    func create(_ path: String, _ body: [String: Any]) async throws -> String {
        let answer = try await send("POST", path, json: body)
        guard answer.status == 201, let id = answer.string("id") else {
            throw PhotoMLTestError.status(answer.status, String(decoding: answer.body, as: UTF8.self))
        }
        return id
    }

    /// A warehouse with one area and one location of 12.5 m² in it.
    func site() async throws -> (warehouse: String, area: String, location: String) {
        let warehouse = try await create("/v1/inventory/locations", ["kind": "warehouse", "name": "North site"])
        let area = try await create("/v1/inventory/locations", ["kind": "area", "name": "Greenhouse 2", "parentId": warehouse])
        let location = try await create(
            "/v1/inventory/locations", ["kind": "location", "name": "Bench 7", "parentId": area, "surfaceSquareMetres": 12.5])
        return (warehouse, area, location)
    }
}

enum PhotoMLTestError: Error { case status(Int, String) }
