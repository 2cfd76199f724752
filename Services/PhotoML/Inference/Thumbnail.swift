internal import CTurboJPEG
import Foundation

/// A small JPEG of the upright photo, for lists and previews.
enum Thumbnail {
    static let longSide = 320

    struct Failure: Error, CustomStringConvertible {
        let detail: String
        var description: String { "the thumbnail could not be made: \(detail)" }
    }

    static func jpeg(_ photo: DecodedPhoto, quality: Int32 = 80) throws -> [UInt8] {
        let small = photo.shrunk(toFit: longSide, longSide)
        guard let handle = tjInitCompress() else { throw Failure(detail: "TurboJPEG did not start") }
        defer { tjDestroy(handle) }
        var buffer: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let status = small.pixels.withUnsafeBufferPointer { source in
            tjCompress2(
                handle, source.baseAddress, Int32(small.width), 0, Int32(small.height), Int32(TJPF_RGB.rawValue), &buffer, &size,
                Int32(TJSAMP_420.rawValue), quality, 0)
        }
        defer { if let buffer { tjFree(buffer) } }
        guard status == 0, let buffer else { throw Failure(detail: String(cString: tjGetErrorStr2(handle))) }
        return Array(UnsafeBufferPointer(start: buffer, count: Int(size)))
    }
}
