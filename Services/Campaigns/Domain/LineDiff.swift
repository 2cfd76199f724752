import Foundation

/// A line diff of two texts, as the longest common subsequence leaves it: lines kept,
/// removed and added, in order.
struct LineDiff: Codable, Sendable, Equatable {
    enum Operation: String, Codable, Sendable {
        case keep = "="
        case remove = "-"
        case add = "+"
    }

    struct Line: Codable, Sendable, Equatable {
        var op: Operation
        var text: String
    }

    var lines: [Line]
    var added: Int
    var removed: Int

    /// Texts of more lines than this are compared as one line each (the table would grow
    /// past what a request should hold).
    static let maxLines = 4000

    init(from old: String, to new: String) {
        var a = old.components(separatedBy: "\n")
        var b = new.components(separatedBy: "\n")
        if a.count > Self.maxLines || b.count > Self.maxLines {
            a = [old]
            b = [new]
        }
        // lengths[i][j]: the longest common subsequence of a[i...] and b[j...].
        var lengths = [[Int32]](repeating: [Int32](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                lengths[i][j] = a[i] == b[j] ? lengths[i + 1][j + 1] + 1 : max(lengths[i + 1][j], lengths[i][j + 1])
            }
        }
        var lines: [Line] = []
        var (i, j) = (0, 0)
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                lines.append(Line(op: .keep, text: a[i]))
                i += 1
                j += 1
            } else if j < b.count, i == a.count || lengths[i][j + 1] >= lengths[i + 1][j] {
                lines.append(Line(op: .add, text: b[j]))
                j += 1
            } else {
                lines.append(Line(op: .remove, text: a[i]))
                i += 1
            }
        }
        self.lines = lines
        self.added = lines.filter { $0.op == .add }.count
        self.removed = lines.filter { $0.op == .remove }.count
    }
}
