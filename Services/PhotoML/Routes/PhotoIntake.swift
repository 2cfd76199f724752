import Crypto
import Foundation
import ServiceKit

/// What every way in checks of a photo's bytes before they are kept: the type from the
/// bytes, the size from the header against the pixel budget. Nothing is decoded here.
struct PhotoIntake: Sendable {
    let limits: PhotoLimits

    struct Inspected: Sendable {
        var header: ImageHeader
        var sha256: String
    }

    func inspect(_ bytes: [UInt8]) throws -> Inspected {
        guard bytes.count <= limits.maxBytes else { throw tooLarge }
        let header: ImageHeader
        do {
            header = try ImageHeader.read(bytes)
        } catch .unsupported {
            throw Problem(status: .unsupportedMediaType, detail: "Only JPEG and PNG photos are accepted (told by their bytes, not their name).")
        } catch .corrupt(let reason) {
            throw Problem.validation([.init(field: "file", message: "is not a readable photo: \(reason)")])
        }
        guard header.pixels <= limits.maxPixels else {
            throw Problem.validation([
                .init(field: "file", message: "announces \(header.width) × \(header.height) pixels; at most \(limits.maxPixels) are accepted")
            ])
        }
        return Inspected(header: header, sha256: SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined())
    }

    var tooLarge: Problem { Problem(status: .contentTooLarge, detail: "A photo may have at most \(limits.maxBytes) bytes.") }

    /// A storage call made for a request: an outage of the store answers 503 with
    /// Retry-After (the client may send again), never a 500. A missing object is the
    /// caller's to answer.
    static func storage<T: Sendable>(_ work: () async throws -> T) async throws -> T {
        do {
            return try await work()
        } catch let error as ObjectStoreError {
            throw error
        } catch {
            var problem = Problem(status: .serviceUnavailable, detail: "Photo storage did not answer; send the request again shortly.")
            problem.retryAfter = 5
            throw problem
        }
    }

    /// Where a tenant's photo's bytes are kept.
    static func storageKey(tenant: UUID, photo: UUID) -> String { "\(tenant.uuidString.lowercased())/\(photo.uuidString.lowercased())" }
}
