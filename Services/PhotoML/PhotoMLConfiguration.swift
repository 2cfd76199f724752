import Foundation
import ServiceKit

/// What the photoml service needs beyond every service's configuration.
struct PhotoMLConfiguration: Sendable {
    var service: ServiceConfiguration
    /// Where photo bytes are kept: a directory, unless `s3` is set.
    var storageDirectory: String
    /// An S3 bucket instead of the directory.
    var s3: S3Settings?
    /// The detection model (ONNX, with its card beside it); nil runs the bundled one.
    var modelPath: String?
    /// The largest photo accepted, in bytes (413 above).
    var maxPhotoBytes = 50 * 1024 * 1024
    /// The most pixels a photo's header may announce (422 above): decoding is never tried
    /// beyond it.
    var maxPixels = 100_000_000
    /// The job queue photos wait in. Every replica that takes uploads must name the one its
    /// inference workers take from.
    var photoQueue = PhotoJobs.process.queue
    /// Also run each photo whole, shrunk to one tile (for objects larger than a tile).
    var fullImagePass = false

    struct S3Settings: Sendable {
        var endpoint: URL
        var bucket: String
        var region: String
        var accessKey: String
        var secretKey: String
        /// Seconds one S3 request may take (an outage answers 503 after it).
        var timeoutSeconds = 30
    }

    /// `PHOTO_STORAGE_DIR` (.dev/photos), or with `PHOTO_S3_BUCKET` set an S3 bucket:
    /// `PHOTO_S3_ENDPOINT` (path-style, e.g. http://127.0.0.1:5055), `PHOTO_S3_REGION`
    /// (us-east-1), `PHOTO_S3_ACCESS_KEY_ID`, `PHOTO_S3_SECRET_ACCESS_KEY`, `PHOTO_S3_TIMEOUT_SECONDS` (30);
    /// `PHOTO_MAX_BYTES` (52428800), `PHOTO_MAX_PIXELS` (100000000), `PHOTO_MODEL_PATH` (the
    /// bundled plants-v1), `PHOTO_QUEUE` (photos), `PHOTO_FULL_IMAGE_PASS` (false).
    static func fromEnvironment(_ env: Environment = Environment()) throws -> Self {
        var s3: S3Settings?
        if let bucket = env.optionalString("PHOTO_S3_BUCKET") {
            s3 = S3Settings(
                endpoint: try env.url("PHOTO_S3_ENDPOINT"), bucket: bucket, region: try env.string("PHOTO_S3_REGION", default: "us-east-1"),
                accessKey: try env.string("PHOTO_S3_ACCESS_KEY_ID"), secretKey: try env.string("PHOTO_S3_SECRET_ACCESS_KEY"),
                timeoutSeconds: try env.int("PHOTO_S3_TIMEOUT_SECONDS", default: 30, range: 1...600))
        }
        return Self(
            service: try ServiceConfiguration.fromEnvironment(name: "photoml", defaultPort: 8087),
            storageDirectory: try env.string("PHOTO_STORAGE_DIR", default: ".dev/photos"), s3: s3, modelPath: env.optionalString("PHOTO_MODEL_PATH"),
            maxPhotoBytes: try env.int("PHOTO_MAX_BYTES", default: 50 * 1024 * 1024, range: 1024...(1 << 30)),
            maxPixels: try env.int("PHOTO_MAX_PIXELS", default: 100_000_000, range: 1...1_000_000_000),
            photoQueue: try env.string("PHOTO_QUEUE", default: PhotoJobs.process.queue),
            fullImagePass: try env.bool("PHOTO_FULL_IMAGE_PASS", default: false))
    }
}
