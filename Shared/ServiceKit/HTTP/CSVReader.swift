import Foundation

/// RFC 4180 records read as the bytes arrive (quoted fields may hold commas, quotes and
/// line breaks), each with the line it starts on, so a file of millions of rows is never
/// held whole. A leading UTF-8 byte order mark is skipped.
public struct CSVReader: Sendable, Codable {
    public struct Record: Sendable, Equatable {
        public var line: Int
        public var fields: [String]
    }

    public struct Unclosed: Error, Equatable {
        public var line: Int
    }

    private var fields: [String] = []
    private var field: [UInt8] = []
    private var quoted = false
    private var quoteSeen = false
    private var pendingCR = false
    private var line = 1
    private var recordLine = 1
    private var started = false

    public init() {}

    /// The records the bytes complete.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [Record] {
        var records: [Record] = []
        for byte in bytes {
            if !started {
                started = true
                // The BOM arrives as three bytes; the first is held back until we know.
                if byte == 0xEF {
                    field.append(byte)
                    continue
                }
            }
            if field == [0xEF] || field == [0xEF, 0xBB] {
                if (field.count == 1 && byte == 0xBB) || (field.count == 2 && byte == 0xBF) {
                    field.append(byte)
                    if field.count == 3 { field = [] }
                    continue
                }
            }
            if pendingCR {
                pendingCR = false
                if byte == UInt8(ascii: "\n") { continue }
            }
            if quoted {
                if quoteSeen {
                    quoteSeen = false
                    if byte == UInt8(ascii: "\"") {
                        field.append(byte)
                        continue
                    }
                    quoted = false
                    // Fall through: the byte after a closing quote is read as unquoted.
                } else if byte == UInt8(ascii: "\"") {
                    quoteSeen = true
                    continue
                } else {
                    if byte == UInt8(ascii: "\n") { line += 1 }
                    field.append(byte)
                    continue
                }
            }
            switch byte {
            case UInt8(ascii: "\"") where field.isEmpty:
                quoted = true
            case UInt8(ascii: ","):
                fields.append(String(decoding: field, as: UTF8.self))
                field = []
            case UInt8(ascii: "\r"), UInt8(ascii: "\n"):
                if byte == UInt8(ascii: "\r") { pendingCR = true }
                if let record = endRecord() { records.append(record) }
                line += 1
                recordLine = line
            default:
                field.append(byte)
            }
        }
        return records
    }

    /// The last record, if the data did not end with a line break.
    public mutating func finish() throws(Unclosed) -> [Record] {
        if quoted && !quoteSeen { throw Unclosed(line: recordLine) }
        quoted = false
        guard !field.isEmpty || !fields.isEmpty else { return [] }
        return endRecord().map { [$0] } ?? []
    }

    private mutating func endRecord() -> Record? {
        fields.append(String(decoding: field, as: UTF8.self))
        field = []
        defer { fields = [] }
        if fields.count == 1 && fields[0].isEmpty { return nil }
        return Record(line: recordLine, fields: fields)
    }
}
