/// One cell of a CSV export. A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`
/// (or a tab or carriage return before one) as a formula: such cells get a leading `'`
/// (OWASP CSV injection). Then RFC 4180 quoting.
public enum CSVCell {
    public static func escape(_ value: String) -> String {
        var text = value
        if let first = text.first, "=+-@\t\r".contains(first) { text = "'" + text }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
