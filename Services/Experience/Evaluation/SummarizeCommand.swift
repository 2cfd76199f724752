import ArgumentParser
import Foundation

/// `experience summarize`: TextRank summaries of texts given as JSON lines (`{"text": …}`),
/// written as JSON lines (`{"sentences": […]}`), for `ml/summary_baseline.py` to set beside
/// PyPI sumy's on the same texts.
struct SummarizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "summarize", abstract: "TextRank summaries of JSON-lines texts.")

    @Option var input: String
    @Option var output: String
    @Option var sentences = 3

    func run() throws {
        var lines = ""
        for line in try String(contentsOfFile: input, encoding: .utf8).split(separator: "\n") {
            let document = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            let chosen = Summary.sentences(Summary.of(document?["text"] as? String ?? "", sentences: sentences))
            lines += String(decoding: try JSONSerialization.data(withJSONObject: ["sentences": chosen]), as: UTF8.self) + "\n"
        }
        try Data(lines.utf8).write(to: URL(fileURLWithPath: output))
    }
}
