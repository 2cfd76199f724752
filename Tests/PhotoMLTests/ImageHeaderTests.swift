import Foundation
import Testing

@testable import PhotoML

@Suite("image headers")
struct ImageHeaderTests {
    @Test("JPEG and PNG are told by their signature; size and orientation come from the header")
    func reads() throws {
        #expect(
            try ImageHeader.read(SyntheticImage.png(width: 640, height: 480)) == ImageHeader(format: .png, width: 640, height: 480, orientation: 1))
        let turned = try ImageHeader.read(SyntheticImage.jpeg(width: 4000, height: 3000, orientation: 8))
        #expect(turned == ImageHeader(format: .jpeg, width: 4000, height: 3000, orientation: 8))
        #expect(turned.upright == (3000, 4000))
        #expect(try ImageHeader.read(SyntheticImage.jpeg(width: 4000, height: 3000)).orientation == 1)
    }

    @Test("a little-endian EXIF block is read too; an orientation out of 1…8 is ignored")
    func exifByteOrder() {
        let little: [UInt8] = [0x49, 0x49, 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0]
        #expect(ImageHeader.exifOrientation(little) == 3)
        var wrong = little
        wrong[18] = 9
        #expect(ImageHeader.exifOrientation(wrong) == nil)
        #expect(ImageHeader.exifOrientation([0x49, 0x49, 42, 0, 0xFF, 0xFF, 0, 0]) == nil)
    }

    @Test("not an image, a cut-short file and a header without a size are refused, each as what it is")
    func refusals() {
        #expect(throws: ImageHeader.Refusal.unsupported) { try ImageHeader.read(Array("GIF89a".utf8)) }
        #expect(throws: ImageHeader.Refusal.unsupported) { try ImageHeader.read([]) }
        #expect(throws: ImageHeader.Refusal.corrupt("the JPEG is cut short (no end marker)")) {
            try ImageHeader.read(SyntheticImage.jpeg(width: 10, height: 10, end: false))
        }
        #expect(throws: ImageHeader.Refusal.corrupt("the PNG is cut short (no end chunk)")) {
            try ImageHeader.read(SyntheticImage.png(width: 10, height: 10, end: false))
        }
        #expect(throws: ImageHeader.Refusal.corrupt("the JPEG header gives no size")) {
            try ImageHeader.read(SyntheticImage.jpeg(width: 0, height: 10))
        }
        // Every prefix of a valid JPEG is refused without a crash.
        let whole = SyntheticImage.jpeg(width: 300, height: 200, orientation: 6)
        for length in 3..<(whole.count - 1) { #expect(throws: ImageHeader.Refusal.self) { try ImageHeader.read(Array(whole.prefix(length))) } }
    }
}

@Suite("multipart bodies")
struct MultipartFormTests {
    @Test("parts by name with their file name and type; a quoted boundary; a body cut short is refused")
    func parse() throws {
        var body = MultipartBody()
        body.field("locationId", "abc")
        body.file(filename: "x.png", contentType: "image/png", [0, 13, 10, 45, 45, 255])
        let form = try MultipartForm.parse(body.finished(), contentType: "multipart/form-data; boundary=\"\(body.boundary)\"")
        #expect(form.part("locationId")?.text == "abc")
        #expect(form.part("file")?.bytes == [0, 13, 10, 45, 45, 255])
        #expect(form.part("file")?.filename == "x.png")
        #expect(form.part("file")?.contentType == "image/png")
        #expect(throws: MultipartForm.Refusal.self) { try MultipartForm.parse(Array(body.bytes.dropLast(3)), contentType: body.contentType) }
        #expect(throws: MultipartForm.Refusal.notMultipart) { try MultipartForm.parse(body.finished(), contentType: "application/json") }
        #expect(MultipartForm.boundary(contentType: "multipart/form-data") == nil)
    }
}
