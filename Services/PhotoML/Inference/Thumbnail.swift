internal import CTurboJPEG
import Foundation

/// A small JPEG of the upright photo, for lists and previews.
enum Thumbnail {
    static let longSide = 320

    struct Failure: Error, CustomStringConvertible {
        let detail: String
        var description: String { "the thumbnail could not be made: \(detail)" }
    }

    /// Each thumbnail pixel averages up to 4 × 4 samples spread over the block it covers:
    /// smooth enough for a preview, a few milliseconds for 12 MP.
    static func shrink(_ photo: DecodedPhoto, longSide: Int = longSide) -> DecodedPhoto {
        let scale = min(1, Double(longSide) / Double(max(photo.width, photo.height)))
        let width = max(1, Int((Double(photo.width) * scale).rounded()))
        let height = max(1, Int((Double(photo.height) * scale).rounded()))
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            let top = y * photo.height / height
            let bottom = max(top + 1, (y + 1) * photo.height / height)
            for x in 0..<width {
                let left = x * photo.width / width
                let right = max(left + 1, (x + 1) * photo.width / width)
                var sums = (0, 0, 0)
                var samples = 0
                for sy in stride(from: top, to: bottom, by: max(1, (bottom - top) / 4)) {
                    for sx in stride(from: left, to: right, by: max(1, (right - left) / 4)) {
                        let (r, g, b) = photo.pixel(sx, sy)
                        sums = (sums.0 + Int(r), sums.1 + Int(g), sums.2 + Int(b))
                        samples += 1
                    }
                }
                let at = (y * width + x) * 3
                pixels[at] = UInt8(sums.0 / samples)
                pixels[at + 1] = UInt8(sums.1 / samples)
                pixels[at + 2] = UInt8(sums.2 / samples)
            }
        }
        return DecodedPhoto(width: width, height: height, pixels: pixels)
    }

    static func jpeg(_ photo: DecodedPhoto, quality: Int32 = 80) throws -> [UInt8] {
        let small = shrink(photo)
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
