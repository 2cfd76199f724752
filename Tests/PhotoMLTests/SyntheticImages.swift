import Foundation

/// Image files built byte by byte: enough structure for a header reader (signature, size,
/// EXIF orientation, the end marker), with `fill` bytes of image data.
enum SyntheticImage {
    static func png(width: Int, height: Int, fill: Int = 64, end: Bool = true) -> [UInt8] {
        var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        bytes += chunk("IHDR", be32(width) + be32(height) + [8, 2, 0, 0, 0])
        bytes += chunk("IDAT", (0..<fill).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        if end { bytes += chunk("IEND", []) }
        return bytes
    }

    static func jpeg(width: Int, height: Int, orientation: Int? = nil, fill: Int = 64, end: Bool = true, seed: UInt8 = 0) -> [UInt8] {
        var bytes: [UInt8] = [0xFF, 0xD8]
        if let orientation {
            // APP1 "Exif\0\0", a big-endian TIFF with one IFD0 entry: 0x0112 SHORT 1 = orientation.
            let tiff: [UInt8] = [0x4D, 0x4D, 0, 42] + be32(8) + [0, 1] + [0x01, 0x12, 0, 3] + be32(1) + [0, UInt8(orientation), 0, 0] + be32(0)
            let payload = Array("Exif".utf8) + [0, 0] + tiff
            bytes += [0xFF, 0xE1] + be16(payload.count + 2) + payload
        }
        let frame: [UInt8] = [8] + be16(height) + be16(width) + [3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]
        bytes += [0xFF, 0xC0] + be16(frame.count + 2) + frame
        let scan: [UInt8] = [3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0]
        bytes += [0xFF, 0xDA] + be16(scan.count + 2) + scan
        bytes += (0..<fill).map { UInt8(truncatingIfNeeded: ($0 &* 7) &+ Int(seed)) & 0x7F }
        if end { bytes += [0xFF, 0xD9] }
        return bytes
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        be32(data.count) + Array(type.utf8) + data + [0, 0, 0, 0]  // the CRC is not checked before decoding
    }

    static func be16(_ value: Int) -> [UInt8] { [UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
    static func be32(_ value: Int) -> [UInt8] {
        [UInt8(value >> 24 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }
}

/// A `multipart/form-data` body.
struct MultipartBody {
    let boundary = "----photo-\(UUID().uuidString)"
    var bytes: [UInt8] = []

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    mutating func field(_ name: String, _ value: String) {
        bytes += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
    }

    mutating func file(_ name: String = "file", filename: String = "bench.jpg", contentType: String = "image/jpeg", _ data: [UInt8]) {
        bytes += Array(
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\nContent-Type: \(contentType)\r\n\r\n".utf8
        )
        bytes += data + Array("\r\n".utf8)
    }

    func finished() -> [UInt8] { bytes + Array("--\(boundary)--\r\n".utf8) }
}
