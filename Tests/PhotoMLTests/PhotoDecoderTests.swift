import Foundation
import Testing

@testable import PhotoML

@Suite("photo decoding")
struct PhotoDecoderTests {
    static func bytes(_ name: String) throws -> [UInt8] {
        let url = try #require(Bundle.module.url(forResource: "Models/\(name)", withExtension: nil))
        return [UInt8](try Data(contentsOf: url))
    }

    static func isRed(_ pixel: (UInt8, UInt8, UInt8)) -> Bool { pixel.0 > 200 && pixel.1 < 60 && pixel.2 < 60 }

    @Test("a PNG decodes through stb_image to its pixels")
    func png() throws {
        let bytes = try Self.bytes("corner.png")
        let photo = try PhotoDecoder.decode(bytes, header: try ImageHeader.read(bytes))
        #expect((photo.width, photo.height) == (5, 3))
        #expect(Self.isRed(photo.pixel(0, 0)))
        #expect(!Self.isRed(photo.pixel(4, 2)))
    }

    @Test("a JPEG stored on its side decodes through TurboJPEG and is turned upright by its EXIF orientation")
    func jpegUpright() throws {
        let bytes = try Self.bytes("sideways.jpg")
        let header = try ImageHeader.read(bytes)
        #expect(header.orientation == 6)
        let photo = try PhotoDecoder.decode(bytes, header: header)
        #expect((photo.width, photo.height) == (4, 6))
        #expect(Self.isRed(photo.pixel(0, 0)))
        #expect(Self.isRed(photo.pixel(1, 1)))
        #expect(!Self.isRed(photo.pixel(3, 5)))
    }

    @Test("the eight orientations move a marked corner where EXIF says")
    func orientations() {
        // 3 × 2, the top-left pixel marked.
        var pixels = [UInt8](repeating: 0, count: 18)
        pixels[0] = 255
        let stored = DecodedPhoto(width: 3, height: 2, pixels: pixels)
        let expected: [Int: (Int, Int, Int, Int)] = [
            1: (3, 2, 0, 0), 2: (3, 2, 2, 0), 3: (3, 2, 2, 1), 4: (3, 2, 0, 1), 5: (2, 3, 0, 0), 6: (2, 3, 1, 0), 7: (2, 3, 1, 2), 8: (2, 3, 0, 2),
        ]
        for (orientation, (width, height, x, y)) in expected.sorted(by: { $0.key < $1.key }) {
            let upright = PhotoDecoder.upright(stored, orientation: orientation)
            #expect((upright.width, upright.height) == (width, height), "orientation \(orientation)")
            #expect(upright.pixel(x, y).0 == 255, "orientation \(orientation): the mark is not at (\(x), \(y))")
        }
    }

    @Test("bytes that pass the header check but are not an image fail with a reason, not a crash")
    func corrupt() throws {
        let header = ImageHeader(format: .jpeg, width: 10, height: 10, orientation: 1)
        #expect(throws: PhotoDecoder.Failure.self) { try PhotoDecoder.decode([0xFF, 0xD8, 0xFF, 0xE0, 0, 2, 0xFF, 0xD9], header: header) }
        let pngHeader = ImageHeader(format: .png, width: 10, height: 10, orientation: 1)
        #expect(throws: PhotoDecoder.Failure.self) { try PhotoDecoder.decode(SyntheticImage.png(width: 10, height: 10), header: pngHeader) }
    }
}
