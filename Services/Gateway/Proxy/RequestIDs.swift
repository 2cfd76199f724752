import NIOCore

/// Random identifiers for request ids and trace context. They must be unique, not secret,
/// so a fast generator seeded once per connection replaces a system call per request.
struct RequestIDs {
    /// xoshiro256** (Blackman and Vigna).
    private var state: (UInt64, UInt64, UInt64, UInt64)

    init() {
        var system = SystemRandomNumberGenerator()
        state = (system.next(), system.next(), system.next(), system.next() | 1)
    }

    mutating func next() -> UInt64 {
        let result = rotate(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotate(state.3, 45)
        return result
    }

    private func rotate(_ value: UInt64, _ count: UInt64) -> UInt64 { (value << count) | (value >> (64 - count)) }

    /// 32 hex digits.
    mutating func requestID() -> String { Self.hex(next()) + Self.hex(next()) }

    /// A W3C Trace Context `traceparent` value (§3.2) for a request that arrives without
    /// one, written into a head without making a string.
    mutating func writeTraceparent(into out: inout ByteBuffer) {
        out.writeStaticString("00-")
        writeHex(next(), into: &out)
        writeHex(next(), into: &out)
        out.writeStaticString("-")
        writeHex(next(), into: &out)
        out.writeStaticString("-01")
    }

    private func writeHex(_ value: UInt64, into out: inout ByteBuffer) {
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: 16) { buffer in
            for index in 0..<16 { buffer[index] = Self.digits[Int((value >> UInt64(60 - index * 4)) & 0xF)] }
            return 16
        }
    }

    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// 16 lower-case hex digits.
    static func hex(_ value: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) { buffer in
            for index in 0..<16 { buffer[index] = digits[Int((value >> UInt64(60 - index * 4)) & 0xF)] }
            return 16
        }
    }
}
