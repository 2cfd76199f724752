/// Finds where a message body ends in the bytes after its head, without changing them:
/// a body goes on with the framing it came with (a length, or chunks and trailers).
/// Chunk lines are held to RFC 9112 §7.1 as strictly as heads are.
struct BodyFramer {
    private enum State {
        case length(Int)
        case sizeStart
        case size
        case sizeExtension
        case sizeLF
        case data(Int)
        case dataCR
        case dataLF
        case trailerStart
        case trailerLine
        case trailerLF
        case finalLF
        case untilClose
        case done
    }

    private var state: State
    private var size = 0
    private var digits = 0

    init(_ framing: MessageHead.Framing) {
        switch framing {
        case .none: state = .done
        case .length(let length): state = length > 0 ? .length(length) : .done
        case .chunked: state = .sizeStart
        case .untilClose: state = .untilClose
        }
    }

    var isDone: Bool {
        if case .done = state { return true }
        return false
    }

    /// How many of `bytes` belong to the body; `isDone` says whether it ended within them.
    mutating func consume(_ bytes: UnsafeRawBufferPointer) throws(HeadError) -> Int {
        var index = 0
        while index < bytes.count {
            switch state {
            case .done:
                return index
            case .untilClose:
                return bytes.count
            case .length(let remaining):
                let taken = min(remaining, bytes.count - index)
                index += taken
                state = taken == remaining ? .done : .length(remaining - taken)
            case .data(let remaining):
                let taken = min(remaining, bytes.count - index)
                index += taken
                state = taken == remaining ? .dataCR : .data(remaining - taken)
            default:
                try step(bytes[index])
                index += 1
            }
        }
        return index
    }

    private mutating func step(_ byte: UInt8) throws(HeadError) {
        switch state {
        case .sizeStart, .size:
            if let value = Self.hexValue(byte) {
                digits += 1
                guard digits <= 15 else { throw .malformed("A chunk size is too large.") }
                size = size << 4 | value
                state = .size
            } else if case .size = state, byte == 13 {
                state = .sizeLF
            } else if case .size = state, byte == UInt8(ascii: ";") || byte == 32 || byte == 9 {
                state = .sizeExtension
            } else {
                throw .malformed("A chunk size line is malformed.")
            }
        case .sizeExtension:
            try lineByte(byte, endsIn: .sizeLF, "A chunk extension holds a control character.")
        case .sizeLF:
            guard byte == 10 else { throw .malformed("A chunk size line ends in a bare CR.") }
            state = size == 0 ? .trailerStart : .data(size)
            size = 0
            digits = 0
        case .dataCR:
            guard byte == 13 else { throw .malformed("A chunk is longer than its size.") }
            state = .dataLF
        case .dataLF:
            guard byte == 10 else { throw .malformed("A chunk ends in a bare CR.") }
            state = .sizeStart
        case .trailerStart:
            state = byte == 13 ? .finalLF : .trailerLine
            if byte != 13, !HeadParser.isValueByte(byte) { throw .malformed("A trailer field is malformed.") }
        case .trailerLine:
            try lineByte(byte, endsIn: .trailerLF, "A trailer field holds a control character.")
        case .trailerLF:
            guard byte == 10 else { throw .malformed("A trailer line ends in a bare CR.") }
            state = .trailerStart
        case .finalLF:
            guard byte == 10 else { throw .malformed("The chunked body ends in a bare CR.") }
            state = .done
        case .length, .data, .untilClose, .done:
            break
        }
    }

    /// A byte of a chunk extension or trailer line: CR ends it, a control character is refused.
    private mutating func lineByte(_ byte: UInt8, endsIn next: State, _ refusal: String) throws(HeadError) {
        if byte == 13 {
            state = next
        } else if !HeadParser.isValueByte(byte) {
            throw .malformed(refusal)
        }
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 48...57: return Int(byte - 48)
        case 65...70: return Int(byte - 55)
        case 97...102: return Int(byte - 87)
        default: return nil
        }
    }
}
