import Contracts
import Foundation
import Testing

@Suite("RFC 3339 timestamps")
struct TimestampTests {
    @Test(
        "a time with milliseconds is written as it was read, before 1970 too (fuzzing found \"0536-05-11T11:07:04.-603Z\")",
        arguments: ["0536-05-11T11:07:04.397Z", "1969-12-31T23:59:59.500Z", "1970-01-01T00:00:00.001Z", "2026-12-07T00:59:35.759Z"])
    func roundTrip(_ text: String) throws {
        let date = try #require(RFC3339.date(from: text))
        #expect(RFC3339.string(from: date) == text)
    }

    @Test("a whole second is written without a fraction")
    func wholeSecond() throws {
        let date = try #require(RFC3339.date(from: "1960-03-01T08:00:00Z"))
        #expect(RFC3339.string(from: date) == "1960-03-01T08:00:00Z")
    }
}
