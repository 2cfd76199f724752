import Foundation
import ServiceKit

/// What the photoml service needs beyond every service's configuration.
struct PhotoMLConfiguration: Sendable {
    var service: ServiceConfiguration
    /// Where photo bytes are kept (the filesystem object store).
    var storageDirectory: String
    /// The largest photo accepted, in bytes (413 above).
    var maxPhotoBytes = 50 * 1024 * 1024
    /// The most pixels a photo's header may announce (422 above): decoding is never tried
    /// beyond it.
    var maxPixels = 100_000_000

    /// `PHOTO_STORAGE_DIR` (.dev/photos), `PHOTO_MAX_BYTES` (52428800), `PHOTO_MAX_PIXELS` (100000000).
    static func fromEnvironment(_ env: Environment = Environment()) throws -> Self {
        Self(
            service: try ServiceConfiguration.fromEnvironment(name: "photoml", defaultPort: 8087),
            storageDirectory: try env.string("PHOTO_STORAGE_DIR", default: ".dev/photos"),
            maxPhotoBytes: try env.int("PHOTO_MAX_BYTES", default: 50 * 1024 * 1024, range: 1024...(1 << 30)),
            maxPixels: try env.int("PHOTO_MAX_PIXELS", default: 100_000_000, range: 1...1_000_000_000))
    }
}
