import Foundation
import Testing

@testable import Gateway

@Suite("upstream choice")
struct UpstreamPoolTests {
    @Test("an upstream that said it is leaving (Connection: close) is tried last until the cool-down ends")
    func leavingGoesLast() throws {
        let a = try #require(Upstream("http://a:8080"))
        let b = try #require(Upstream("http://b:8080"))
        let pool = UpstreamPool(coolDown: 10)
        let before = (0..<4).map { _ in pool.candidates([a, b], now: 100).first }
        #expect(Set(before.compactMap { $0 }) == [a, b])
        pool.leaving(a, now: 100)
        for _ in 0..<4 { #expect(pool.candidates([a, b], now: 105) == [b, a]) }
        let after = (0..<4).map { _ in pool.candidates([a, b], now: 111).first }
        #expect(Set(after.compactMap { $0 }) == [a, b])
    }
}
