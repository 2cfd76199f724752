import Foundation
import PostgresNIO

/// A segment expression as a SQL condition over `campaigns.subscribers s`: the text is
/// built from the expression's shape only; every value and attribute key is a bind
/// parameter, so nothing a tenant writes is ever part of the SQL.
struct SegmentSQL {
    private(set) var text = ""
    private(set) var binds = PostgresBindings()

    /// The condition, its parameters numbered from $1.
    static func condition(_ expression: SegmentExpression) -> SegmentSQL {
        var built = SegmentSQL()
        built.text = built.render(expression)
        return built
    }

    /// A query around the condition; `sql` binds any values it adds with `bind` first.
    func query(_ make: (inout SegmentSQL) -> String) -> PostgresQuery {
        var copy = self
        let sql = make(&copy)
        return PostgresQuery(unsafeSQL: sql, binds: copy.binds)
    }

    /// Appends a parameter; answers its placeholder.
    mutating func bind<Value: PostgresDynamicTypeEncodable>(_ value: Value) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    private mutating func render(_ expression: SegmentExpression) -> String {
        switch expression {
        case .and(let a, let b): return "(\(render(a)) AND \(render(b)))"
        case .or(let a, let b): return "(\(render(a)) OR \(render(b)))"
        // A missing attribute makes a comparison NULL; NOT of it must still be true or false.
        case .not(let a): return "(NOT COALESCE(\(render(a)), false))"
        case .exists(let field):
            guard case .attribute(let path) = field else { return "false" }
            return "(\(jsonAt(path)) IS NOT NULL)"
        case .onList(let list, let confirmedOnly):
            let states = confirmedOnly ? "('confirmed')" : "('confirmed', 'unconfirmed')"
            return """
                EXISTS (SELECT 1 FROM campaigns.list_members m WHERE m.subscriber_id = s.id AND m.list_id = \(bind(list)) \
                AND m.status IN \(states))
                """
        case .oneOf(let field, let values):
            return oneOf(field, values)
        case .compare(let field, let op, let value):
            return compare(field, op, value)
        }
    }

    /// The attribute as JSON (NULL when absent).
    private mutating func jsonAt(_ path: [String]) -> String { "(s.attributes #> \(bind(path))::text[])" }

    private mutating func column(_ field: SegmentField) -> String {
        switch field {
        case .email: "s.email"
        case .name: "s.name"
        case .status: "s.status"
        case .createdAt: "s.created_at"
        case .attribute(let path): "(s.attributes #>> \(bind(path))::text[])"
        }
    }

    private mutating func compare(_ field: SegmentField, _ op: SegmentOperator, _ value: SegmentValue) -> String {
        if case .attribute(let path) = field {
            switch value {
            case .null:
                let json = jsonAt(path)
                let isNull = "(\(json) IS NULL OR jsonb_typeof(\(json)) = 'null')"
                return op == .equal ? isNull : "(NOT \(isNull))"
            case .bool(let flag):
                let json = jsonAt(path)
                let equal = "(\(json) = to_jsonb(\(bind(flag))::boolean))"
                return op == .equal ? equal : "(\(json) IS DISTINCT FROM to_jsonb(\(bind(flag))::boolean))"
            case .number(let number):
                let json = jsonAt(path)
                let numeric = "(CASE WHEN jsonb_typeof(\(json)) = 'number' THEN (\(json) #>> '{}')::numeric END)"
                let placeholder = bind(number)
                return op == .notEqual
                    ? "(\(numeric) IS DISTINCT FROM \(placeholder)::numeric)" : "(\(numeric) \(op.rawValue) \(placeholder)::numeric)"
            case .string, .date:
                // Compared as the attribute's text, below.
                break
            }
        }
        let target = column(field)
        switch value {
        case .date(let date):
            return "(\(target) \(op.rawValue) \(bind(date))::timestamptz)"
        case .string(var text):
            if field == .email { text = text.lowercased() }
            switch op {
            case .contains: return "(\(target) ILIKE \(bind("%" + Self.escapeLike(text) + "%")))"
            case .startsWith: return "(\(target) ILIKE \(bind(Self.escapeLike(text) + "%")))"
            case .endsWith: return "(\(target) ILIKE \(bind("%" + Self.escapeLike(text))))"
            case .notEqual: return "(\(target) IS DISTINCT FROM \(bind(text)))"
            default: return "(\(target) \(op.rawValue) \(bind(text)))"
            }
        default:
            // The parser lets no other value reach a column of text or time.
            return "false"
        }
    }

    private mutating func oneOf(_ field: SegmentField, _ values: [SegmentValue]) -> String {
        switch values.first {
        case .number:
            guard case .attribute(let path) = field else { return "false" }
            let json = jsonAt(path)
            let numbers = values.compactMap { if case .number(let n) = $0 { n } else { nil } }
            return "((CASE WHEN jsonb_typeof(\(json)) = 'number' THEN (\(json) #>> '{}')::numeric END) = ANY(\(bind(numbers))::numeric[]))"
        case .string:
            let texts = values.compactMap { if case .string(let t) = $0 { field == .email ? t.lowercased() : t } else { nil } }
            return "(\(column(field)) = ANY(\(bind(texts))::text[]))"
        case .bool:
            guard case .attribute(let path) = field else { return "false" }
            let flags = values.compactMap { if case .bool(let b) = $0 { b } else { nil } }
            return "(\(jsonAt(path)) = ANY(ARRAY(SELECT to_jsonb(f) FROM unnest(\(bind(flags))::boolean[]) AS f)))"
        default:
            return "false"
        }
    }

    /// `%`, `_` and `\` stand for themselves in a LIKE pattern.
    static func escapeLike(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
    }
}
