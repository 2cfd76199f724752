import Foundation

/// Extractive summaries by TextRank (Mihalcea and Tarau, 2004): sentences are the nodes of a
/// graph weighted by their word overlap (normalised by their lengths' logarithms), PageRank
/// ranks them, and the best few are kept in the order the text has them.
enum Summary {
    static let damping = 0.85
    static let iterations = 50

    /// Sentences: ends at . ! ? followed by a space and a capital, a digit or a quote; not
    /// after common abbreviations.
    static func sentences(_ text: String) -> [String] {
        let abbreviations: Set<String> = ["mr", "mrs", "ms", "dr", "prof", "st", "vs", "etc", "e.g", "i.e", "inc", "ltd", "jr", "sr", "no"]
        var sentences: [String] = []
        var current = ""
        let characters = Array(text)
        for (index, character) in characters.enumerated() {
            current.append(character)
            guard character == "." || character == "!" || character == "?" else { continue }
            let next = index + 1 < characters.count ? characters[index + 1] : " "
            let after = index + 2 < characters.count ? characters[index + 2] : "A"
            guard next.isWhitespace, after.isUppercase || after.isNumber || after == "\"" || after == "“" || index + 1 >= characters.count else {
                continue
            }
            let lastWord = current.dropLast().split(separator: " ").last.map { $0.lowercased() } ?? ""
            if character == ".", abbreviations.contains(lastWord) { continue }
            sentences.append(current.trimmingCharacters(in: .whitespacesAndNewlines))
            current = ""
        }
        let rest = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !rest.isEmpty { sentences.append(rest) }
        return sentences.filter { NearDuplicates.words($0).count >= 3 }
    }

    /// The TextRank score of each sentence.
    static func ranks(_ sentences: [String]) -> [Double] {
        let words = sentences.map { Set(NearDuplicates.words($0).map(String.init)) }
        let n = sentences.count
        guard n > 1 else { return Array(repeating: 1, count: n) }
        var weights = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n {
            for j in (i + 1)..<n {
                let common = Double(words[i].intersection(words[j]).count)
                let norm = log(Double(max(words[i].count, 2))) + log(Double(max(words[j].count, 2)))
                let weight = common == 0 ? 0 : common / norm
                weights[i][j] = weight
                weights[j][i] = weight
            }
        }
        let outgoing = weights.map { $0.reduce(0, +) }
        var scores = [Double](repeating: 1, count: n)
        for _ in 0..<iterations {
            scores = (0..<n).map { i in
                (1 - damping) + damping * (0..<n).reduce(0) { sum, j in outgoing[j] > 0 ? sum + weights[j][i] / outgoing[j] * scores[j] : sum }
            }
        }
        return scores
    }

    /// The `count` best sentences, in the text's order.
    static func of(_ text: String, sentences count: Int = 3) -> String {
        let sentences = sentences(text)
        guard sentences.count > count else { return sentences.joined(separator: " ") }
        let scores = ranks(sentences)
        let best = Set(scores.indices.sorted { (scores[$0], -$0) > (scores[$1], -$1) }.prefix(count))
        return sentences.indices.filter { best.contains($0) }.map { sentences[$0] }.joined(separator: " ")
    }
}
