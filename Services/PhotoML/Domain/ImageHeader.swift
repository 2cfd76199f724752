import Foundation

/// What a photo is, read from its bytes alone and before any decoding: the type from its
/// signature (never the client's content type), the dimensions from its header, the EXIF
/// orientation, and whether the file is whole. A 50,000 × 50,000 "image" is refused here
/// for its header, and never reaches a decoder.
struct ImageHeader: Sendable, Equatable {
    enum Format: String, Sendable, Codable {
        case jpeg, png

        var contentType: String {
            switch self {
            case .jpeg: "image/jpeg"
            case .png: "image/png"
            }
        }
    }

    enum Refusal: Error, Equatable {
        /// Not a JPEG or PNG signature (415).
        case unsupported
        /// The signature is there but the structure is not: cut short, or corrupt (422).
        case corrupt(String)
    }

    var format: Format
    var width: Int
    var height: Int
    /// EXIF orientation 1…8 (1: as stored); PNG has none.
    var orientation: Int

    var pixels: Int { width * height }

    /// Width and height as the photo is seen once its orientation is applied (5…8 turn it
    /// a quarter).
    var upright: (width: Int, height: Int) { orientation >= 5 ? (height, width) : (width, height) }

    static func read(_ bytes: [UInt8]) throws(Refusal) -> ImageHeader {
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return try jpeg(bytes) }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return try png(bytes) }
        throw .unsupported
    }

    // MARK: PNG

    /// IHDR must come first; the file must end with IEND (a cut-short upload does not).
    static func png(_ bytes: [UInt8]) throws(Refusal) -> ImageHeader {
        guard bytes.count >= 33, Array(bytes[12..<16]) == Array("IHDR".utf8), be32(bytes, 8) == 13 else {
            throw .corrupt("the PNG has no image header")
        }
        let width = be32(bytes, 16)
        let height = be32(bytes, 20)
        guard width > 0, height > 0 else { throw .corrupt("the PNG header gives no size") }
        guard bytes.count >= 45, Array(bytes[(bytes.count - 8)..<(bytes.count - 4)]) == Array("IEND".utf8) else {
            throw .corrupt("the PNG is cut short (no end chunk)")
        }
        return ImageHeader(format: .png, width: width, height: height, orientation: 1)
    }

    // MARK: JPEG

    /// Walks the markers up to the first start-of-frame for the size, reading the EXIF
    /// orientation on the way; the file must end with EOI.
    static func jpeg(_ bytes: [UInt8]) throws(Refusal) -> ImageHeader {
        var index = 2
        var orientation = 1
        while index + 4 <= bytes.count {
            guard bytes[index] == 0xFF else { throw .corrupt("the JPEG's markers are out of step") }
            let marker = bytes[index + 1]
            if marker == 0xFF {
                index += 1  // fill byte
                continue
            }
            if marker == 0xD8 || (0xD0...0xD7).contains(marker) || marker == 0x01 {
                index += 2
                continue
            }
            let length = be16(bytes, index + 2)
            guard length >= 2, index + 2 + length <= bytes.count else { throw .corrupt("the JPEG is cut short in its header") }
            let segment = index + 4
            if marker == 0xE1, length >= 8, Array(bytes[segment..<(segment + 6)]) == [0x45, 0x78, 0x69, 0x66, 0, 0] {
                orientation = exifOrientation(Array(bytes[(segment + 6)..<(index + 2 + length)])) ?? 1
            }
            // SOF0…SOF15, except DHT (C4), JPG (C8) and DAC (CC).
            if (0xC0...0xCF).contains(marker), ![0xC4, 0xC8, 0xCC].contains(marker) {
                guard length >= 7 else { throw .corrupt("the JPEG's frame header is too short") }
                let height = be16(bytes, segment + 1)
                let width = be16(bytes, segment + 3)
                guard width > 0, height > 0 else { throw .corrupt("the JPEG header gives no size") }
                guard bytes.count >= 4, bytes[bytes.count - 2] == 0xFF, bytes[bytes.count - 1] == 0xD9 else {
                    throw .corrupt("the JPEG is cut short (no end marker)")
                }
                return ImageHeader(format: .jpeg, width: width, height: height, orientation: orientation)
            }
            if marker == 0xDA { break }  // scan data before any frame header
            index += 2 + length
        }
        throw .corrupt("the JPEG has no frame header")
    }

    /// Tag 0x0112 of IFD0 in a TIFF structure, either byte order.
    static func exifOrientation(_ tiff: [UInt8]) -> Int? {
        guard tiff.count >= 8 else { return nil }
        let little: Bool
        switch (tiff[0], tiff[1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return nil
        }
        func u16(_ at: Int) -> Int? {
            guard at >= 0, at + 2 <= tiff.count else { return nil }
            return little ? Int(tiff[at]) | Int(tiff[at + 1]) << 8 : be16(tiff, at)
        }
        func u32(_ at: Int) -> Int? {
            guard at >= 0, at + 4 <= tiff.count else { return nil }
            return little ? Int(tiff[at]) | Int(tiff[at + 1]) << 8 | Int(tiff[at + 2]) << 16 | Int(tiff[at + 3]) << 24 : be32(tiff, at)
        }
        guard let ifd = u32(4), let count = u16(ifd) else { return nil }
        for entry in 0..<min(count, 512) {
            let at = ifd + 2 + entry * 12
            guard let tag = u16(at) else { return nil }
            if tag == 0x0112, let value = u16(at + 8), (1...8).contains(value) { return value }
        }
        return nil
    }

    static func be16(_ bytes: [UInt8], _ at: Int) -> Int {
        Int(bytes[at]) << 8 | Int(bytes[at + 1])
    }

    static func be32(_ bytes: [UInt8], _ at: Int) -> Int {
        Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
    }
}
