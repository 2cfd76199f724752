import Foundation

/// A segment's filter, parsed from the segment language:
///
///     attributes.plan = "pro" and attributes.seats >= 10 and in_list("<list id>")
///     not (email ends_with "@example.com" or status = "blocklisted")
///     attributes.country in ("DE", "AT", "CH") and created_at >= "2026-01-01"
///
/// Fields: `email`, `name`, `status`, `created_at`, `attributes.<key>[.<key>…]`.
/// Comparisons: `=`, `!=`, `<`, `<=`, `>`, `>=`, `contains`, `starts_with`, `ends_with`,
/// `in (…)`, and `<attribute> exists`. Memberships: `in_list("<id>")` (subscribed, confirmed
/// or not) and `confirmed_in("<id>")`. Values: "strings" or 'strings' (backslash escapes),
/// numbers, `true`, `false`, `null`. `and` binds tighter than `or`; `not` tighter still.
/// It is only ever compiled to parameterised SQL (Store/SegmentSQL.swift): values and
/// attribute keys travel as bind parameters.
indirect enum SegmentExpression: Equatable, Sendable {
    case and(SegmentExpression, SegmentExpression)
    case or(SegmentExpression, SegmentExpression)
    case not(SegmentExpression)
    case compare(SegmentField, SegmentOperator, SegmentValue)
    case oneOf(SegmentField, [SegmentValue])
    case exists(SegmentField)
    case onList(UUID, confirmedOnly: Bool)
}

enum SegmentField: Equatable, Sendable {
    case email, name, status, createdAt
    case attribute([String])
}

enum SegmentOperator: String, Equatable, Sendable, CaseIterable {
    case equal = "="
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
    case contains
    case startsWith = "starts_with"
    case endsWith = "ends_with"

    var isText: Bool { [.contains, .startsWith, .endsWith].contains(self) }
    var isOrdering: Bool { [.less, .lessOrEqual, .greater, .greaterOrEqual].contains(self) }
}

enum SegmentValue: Equatable, Sendable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case null
    case date(Date)
}

/// Where and why an expression does not parse.
struct SegmentSyntaxError: Error, Equatable, CustomStringConvertible {
    /// The character offset the problem starts at.
    var position: Int
    var message: String
    var description: String { "at character \(position + 1): \(message)" }
}

extension SegmentExpression {
    static let maxLength = 4000
    static let maxDepth = 32
    static let maxTerms = 200

    static func parse(_ text: String) throws(SegmentSyntaxError) -> SegmentExpression {
        guard text.count <= maxLength else { throw SegmentSyntaxError(position: maxLength, message: "longer than \(maxLength) characters") }
        var parser = SegmentParser(tokens: try SegmentLexer.tokens(text), end: text.count)
        let expression = try parser.expression(depth: 0)
        if let extra = parser.peek { throw SegmentSyntaxError(position: extra.position, message: "unexpected \(extra.kind)") }
        return expression
    }

    /// The lists it names, so a segment can be checked against the tenant's lists.
    var lists: [UUID] {
        switch self {
        case .and(let a, let b), .or(let a, let b): a.lists + b.lists
        case .not(let a): a.lists
        case .onList(let id, _): [id]
        case .compare, .oneOf, .exists: []
        }
    }
}

struct SegmentToken: Equatable, Sendable {
    enum Kind: Equatable, Sendable, CustomStringConvertible {
        case word(String)
        case string(String)
        case number(Double)
        case symbol(String)

        var description: String {
            switch self {
            case .word(let word): "'\(word)'"
            case .string: "a string"
            case .number: "a number"
            case .symbol(let symbol): "'\(symbol)'"
            }
        }
    }

    var kind: Kind
    var position: Int
}

enum SegmentLexer {
    static func tokens(_ text: String) throws(SegmentSyntaxError) -> [SegmentToken] {
        let characters = Array(text)
        var tokens: [SegmentToken] = []
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character.isWhitespace {
                index += 1
                continue
            }
            let start = index
            if character == "\"" || character == "'" {
                var value = ""
                index += 1
                var closed = false
                while index < characters.count {
                    let next = characters[index]
                    if next == "\\", index + 1 < characters.count {
                        value.append(characters[index + 1])
                        index += 2
                        continue
                    }
                    index += 1
                    if next == character {
                        closed = true
                        break
                    }
                    value.append(next)
                }
                guard closed else { throw SegmentSyntaxError(position: start, message: "a string that is never closed") }
                tokens.append(SegmentToken(kind: .string(value), position: start))
            } else if character.isNumber || (character == "-" && index + 1 < characters.count && characters[index + 1].isNumber) {
                index += 1
                while index < characters.count, characters[index].isNumber || characters[index] == "." { index += 1 }
                let literal = String(characters[start..<index])
                guard let number = Double(literal), number.isFinite else {
                    throw SegmentSyntaxError(position: start, message: "'\(literal)' is not a number")
                }
                tokens.append(SegmentToken(kind: .number(number), position: start))
            } else if character.isLetter || character == "_" {
                while index < characters.count, characters[index].isLetter || characters[index].isNumber || "_-.".contains(characters[index]) {
                    index += 1
                }
                tokens.append(SegmentToken(kind: .word(String(characters[start..<index])), position: start))
            } else if "()=,".contains(character) {
                index += 1
                tokens.append(SegmentToken(kind: .symbol(String(character)), position: start))
            } else if "<>!".contains(character) {
                index += 1
                if index < characters.count, characters[index] == "=" { index += 1 }
                let symbol = String(characters[start..<index])
                guard symbol != "!" else { throw SegmentSyntaxError(position: start, message: "'!' alone; use 'not' or '!='") }
                tokens.append(SegmentToken(kind: .symbol(symbol), position: start))
            } else {
                throw SegmentSyntaxError(position: start, message: "unexpected character '\(character)'")
            }
        }
        return tokens
    }
}

struct SegmentParser {
    let tokens: [SegmentToken]
    let end: Int
    var index = 0
    var terms = 0

    var peek: SegmentToken? { index < tokens.count ? tokens[index] : nil }

    mutating func next() -> SegmentToken? {
        defer { index += 1 }
        return peek
    }

    func error(_ message: String) -> SegmentSyntaxError {
        SegmentSyntaxError(position: peek?.position ?? end, message: message)
    }

    func isWord(_ word: String) -> Bool {
        if case .word(let found) = peek?.kind { return found.lowercased() == word }
        return false
    }

    func isSymbol(_ symbol: String) -> Bool { peek?.kind == .symbol(symbol) }

    mutating func expression(depth: Int) throws(SegmentSyntaxError) -> SegmentExpression {
        guard depth <= SegmentExpression.maxDepth else { throw error("nested deeper than \(SegmentExpression.maxDepth)") }
        var left = try conjunction(depth: depth)
        while isWord("or") {
            index += 1
            left = .or(left, try conjunction(depth: depth))
        }
        return left
    }

    mutating func conjunction(depth: Int) throws(SegmentSyntaxError) -> SegmentExpression {
        var left = try negation(depth: depth)
        while isWord("and") {
            index += 1
            left = .and(left, try negation(depth: depth))
        }
        return left
    }

    mutating func negation(depth: Int) throws(SegmentSyntaxError) -> SegmentExpression {
        if isWord("not") {
            index += 1
            guard depth < SegmentExpression.maxDepth else { throw error("nested deeper than \(SegmentExpression.maxDepth)") }
            return .not(try negation(depth: depth + 1))
        }
        return try primary(depth: depth)
    }

    mutating func primary(depth: Int) throws(SegmentSyntaxError) -> SegmentExpression {
        terms += 1
        guard terms <= SegmentExpression.maxTerms else { throw error("more than \(SegmentExpression.maxTerms) conditions") }
        if isSymbol("(") {
            index += 1
            let inner = try expression(depth: depth + 1)
            guard isSymbol(")") else { throw error("expected ')'") }
            index += 1
            return inner
        }
        guard let token = next(), case .word(let word) = token.kind else {
            index -= 1
            throw error(peek == nil ? "the expression ends where a condition was expected" : "expected a field or a condition")
        }
        switch word.lowercased() {
        case "in_list", "confirmed_in":
            guard isSymbol("(") else { throw error("expected '(' after \(word)") }
            index += 1
            guard let idToken = next(), case .string(let raw) = idToken.kind, let id = UUID(uuidString: raw) else {
                index -= 1
                throw error("\(word) takes a list id in quotes")
            }
            guard isSymbol(")") else { throw error("expected ')'") }
            index += 1
            return .onList(id, confirmedOnly: word.lowercased() == "confirmed_in")
        default:
            let field = try Self.field(word, at: token.position)
            return try condition(on: field)
        }
    }

    static func field(_ word: String, at position: Int) throws(SegmentSyntaxError) -> SegmentField {
        switch word.lowercased() {
        case "email": return .email
        case "name": return .name
        case "status": return .status
        case "created_at": return .createdAt
        default:
            let parts = word.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 2, parts[0].lowercased() == "attributes", parts.dropFirst().allSatisfy({ !$0.isEmpty && $0.count <= 64 }),
                parts.count <= 9
            else {
                throw SegmentSyntaxError(
                    position: position, message: "unknown field '\(word)'; use email, name, status, created_at or attributes.<key>")
            }
            return .attribute(Array(parts.dropFirst()))
        }
    }

    mutating func condition(on field: SegmentField) throws(SegmentSyntaxError) -> SegmentExpression {
        if isWord("exists") {
            guard case .attribute = field else { throw error("only attributes may be tested with 'exists'") }
            index += 1
            return .exists(field)
        }
        if isWord("in") {
            index += 1
            guard isSymbol("(") else { throw error("expected '(' after 'in'") }
            index += 1
            var values: [SegmentValue] = []
            repeat {
                if !values.isEmpty { index += 1 }
                values.append(try value(for: field, operator: .equal))
            } while isSymbol(",")
            guard isSymbol(")") else { throw error("expected ',' or ')'") }
            index += 1
            guard Set(values.map(Self.kind)).count == 1 else { throw error("the values of 'in' must all be of one kind") }
            guard values.count <= 1000 else { throw error("at most 1000 values in 'in'") }
            return .oneOf(field, values)
        }
        guard let token = peek else { throw error("expected a comparison after the field") }
        let op: SegmentOperator
        switch token.kind {
        case .symbol(let symbol):
            guard let found = SegmentOperator(rawValue: symbol) else { throw error("expected a comparison, found '\(symbol)'") }
            op = found
        case .word(let word):
            guard let found = SegmentOperator(rawValue: word.lowercased()), found.isText else {
                throw error("expected a comparison, found '\(word)'")
            }
            op = found
        default:
            throw error("expected a comparison after the field")
        }
        index += 1
        let at = peek?.position ?? end
        let value = try value(for: field, operator: op)
        if op.isText, case .string = value {} else if op.isText { throw SegmentSyntaxError(position: at, message: "'\(op.rawValue)' takes a string") }
        if value == .null, op != .equal, op != .notEqual { throw SegmentSyntaxError(position: at, message: "null is only compared with = or !=") }
        return .compare(field, op, value)
    }

    static func kind(_ value: SegmentValue) -> Int {
        switch value {
        case .string: 0
        case .number: 1
        case .bool: 2
        case .null: 3
        case .date: 4
        }
    }

    mutating func value(for field: SegmentField, operator op: SegmentOperator) throws(SegmentSyntaxError) -> SegmentValue {
        guard let token = next() else { throw error("the expression ends where a value was expected") }
        let value: SegmentValue
        switch token.kind {
        case .string(let text): value = .string(text)
        case .number(let number): value = .number(number)
        case .word(let word) where word.lowercased() == "true": value = .bool(true)
        case .word(let word) where word.lowercased() == "false": value = .bool(false)
        case .word(let word) where word.lowercased() == "null": value = .null
        default:
            index -= 1
            throw error("expected a value: a \"string\", a number, true, false or null")
        }
        switch field {
        case .attribute:
            return value
        case .createdAt:
            guard case .string(let text) = value, let date = Self.date(text) else {
                throw SegmentSyntaxError(position: token.position, message: "created_at is compared with a date in quotes, e.g. \"2026-01-31\"")
            }
            guard !op.isText else { throw SegmentSyntaxError(position: token.position, message: "created_at takes no text comparison") }
            return .date(date)
        case .email, .name, .status:
            guard case .string = value else { throw SegmentSyntaxError(position: token.position, message: "this field is compared with a string") }
            return value
        }
    }

    static func date(_ text: String) -> Date? {
        let full = ISO8601DateFormatter()
        if let date = full.date(from: text) { return date }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        return day.date(from: text)
    }
}
