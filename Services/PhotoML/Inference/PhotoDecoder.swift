internal import CSTBImage
internal import CTurboJPEG
import Foundation

/// A decoded photo: RGB, 8 bits a channel, row after row.
struct DecodedPhoto: Sendable, Equatable {
    var width: Int
    var height: Int
    var pixels: [UInt8]

    func pixel(_ x: Int, _ y: Int) -> (UInt8, UInt8, UInt8) {
        let at = (y * width + x) * 3
        return (pixels[at], pixels[at + 1], pixels[at + 2])
    }
}

/// Decodes what `ImageHeader` accepted: JPEG through TurboJPEG, PNG through stb_image,
/// then turns it upright by its EXIF orientation.
enum PhotoDecoder {
    struct Failure: Error, CustomStringConvertible {
        let detail: String
        var description: String { "the photo could not be decoded: \(detail)" }
    }

    static func decode(_ bytes: [UInt8], header: ImageHeader) throws -> DecodedPhoto {
        let decoded = header.format == .jpeg ? try jpeg(bytes) : try png(bytes)
        return upright(decoded, orientation: header.orientation)
    }

    static func jpeg(_ bytes: [UInt8]) throws -> DecodedPhoto {
        guard let handle = tjInitDecompress() else { throw Failure(detail: "TurboJPEG did not start") }
        defer { tjDestroy(handle) }
        var width: Int32 = 0
        var height: Int32 = 0
        var subsampling: Int32 = 0
        var colourspace: Int32 = 0
        return try bytes.withUnsafeBufferPointer { source in
            guard tjDecompressHeader3(handle, source.baseAddress, UInt(source.count), &width, &height, &subsampling, &colourspace) == 0 else {
                throw Failure(detail: String(cString: tjGetErrorStr2(handle)))
            }
            var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * 3)
            let status = pixels.withUnsafeMutableBufferPointer { target in
                tjDecompress2(handle, source.baseAddress, UInt(source.count), target.baseAddress, width, 0, height, Int32(TJPF_RGB.rawValue), 0)
            }
            // A warning (a slightly damaged file) still gives an image; an error does not.
            if status != 0, tjGetErrorCode(handle) == Int32(TJERR_FATAL.rawValue) {
                throw Failure(detail: String(cString: tjGetErrorStr2(handle)))
            }
            return DecodedPhoto(width: Int(width), height: Int(height), pixels: pixels)
        }
    }

    static func png(_ bytes: [UInt8]) throws -> DecodedPhoto {
        var width: Int32 = 0
        var height: Int32 = 0
        var channels: Int32 = 0
        let decoded = bytes.withUnsafeBufferPointer { source in
            stbi_load_from_memory(source.baseAddress, Int32(source.count), &width, &height, &channels, 3)
        }
        guard let decoded else { throw Failure(detail: stbi_failure_reason().map { String(cString: $0) } ?? "stb_image refused it") }
        defer { stbi_image_free(decoded) }
        return DecodedPhoto(
            width: Int(width), height: Int(height), pixels: Array(UnsafeBufferPointer(start: decoded, count: Int(width) * Int(height) * 3)))
    }

    /// EXIF orientations 2…8 as flips and quarter turns (1 is as stored).
    static func upright(_ photo: DecodedPhoto, orientation: Int) -> DecodedPhoto {
        guard (2...8).contains(orientation) else { return photo }
        let (w, h) = (photo.width, photo.height)
        let turned = orientation >= 5
        let (outWidth, outHeight) = turned ? (h, w) : (w, h)
        var pixels = [UInt8](repeating: 0, count: photo.pixels.count)
        for y in 0..<outHeight {
            for x in 0..<outWidth {
                // Where the stored pixel for (x, y) of the upright photo is.
                let (sx, sy): (Int, Int)
                switch orientation {
                case 2: (sx, sy) = (w - 1 - x, y)
                case 3: (sx, sy) = (w - 1 - x, h - 1 - y)
                case 4: (sx, sy) = (x, h - 1 - y)
                case 5: (sx, sy) = (y, x)
                case 6: (sx, sy) = (y, h - 1 - x)
                case 7: (sx, sy) = (w - 1 - y, h - 1 - x)
                default: (sx, sy) = (w - 1 - y, x)
                }
                let from = (sy * w + sx) * 3
                let to = (y * outWidth + x) * 3
                pixels[to] = photo.pixels[from]
                pixels[to + 1] = photo.pixels[from + 1]
                pixels[to + 2] = photo.pixels[from + 2]
            }
        }
        return DecodedPhoto(width: outWidth, height: outHeight, pixels: pixels)
    }
}

extension DecodedPhoto {
    /// The photo scaled down (never up) to fit `width` × `height`, its aspect kept. Each
    /// pixel averages up to 4 × 4 samples spread over the block it covers: smooth enough
    /// for a preview or a whole-photo pass, milliseconds for 12 MP.
    func shrunk(toFit maxWidth: Int, _ maxHeight: Int) -> DecodedPhoto {
        let scale = min(1, Double(maxWidth) / Double(width), Double(maxHeight) / Double(height))
        let newWidth = max(1, Int((Double(width) * scale).rounded()))
        let newHeight = max(1, Int((Double(height) * scale).rounded()))
        var out = [UInt8](repeating: 0, count: newWidth * newHeight * 3)
        for y in 0..<newHeight {
            let top = y * height / newHeight
            let bottom = max(top + 1, (y + 1) * height / newHeight)
            for x in 0..<newWidth {
                let left = x * width / newWidth
                let right = max(left + 1, (x + 1) * width / newWidth)
                var sums = (0, 0, 0)
                var samples = 0
                for sy in stride(from: top, to: bottom, by: max(1, (bottom - top) / 4)) {
                    for sx in stride(from: left, to: right, by: max(1, (right - left) / 4)) {
                        let (r, g, b) = pixel(sx, sy)
                        sums = (sums.0 + Int(r), sums.1 + Int(g), sums.2 + Int(b))
                        samples += 1
                    }
                }
                let at = (y * newWidth + x) * 3
                out[at] = UInt8(sums.0 / samples)
                out[at + 1] = UInt8(sums.1 / samples)
                out[at + 2] = UInt8(sums.2 / samples)
            }
        }
        return DecodedPhoto(width: newWidth, height: newHeight, pixels: out)
    }
}
