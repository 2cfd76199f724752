import Foundation

/// How much an article reads like an article: a score from 0 to 1 from its length, sentence
/// length (readability), boilerplate and spam signals, with the reasons that lowered it.
/// Below `threshold` it is rejected, and the reasons say why.
struct Quality: Sendable, Equatable {
    var score: Double
    var reasons: [String]

    static let threshold = 0.4

    var rejected: Bool { score < Self.threshold }

    static let boilerplate = [
        "all rights reserved", "subscribe to our newsletter", "click here", "accept cookies", "cookie policy", "sign up now",
        "read more at", "terms of service", "follow us on",
    ]
    static let spam = [
        "buy now", "limited offer", "act now", "100% free", "free money", "casino", "viagra", "earn $", "work from home", "crypto giveaway",
    ]

    static func of(title: String, text: String) -> Quality {
        var score = 1.0
        var reasons: [String] = []
        let words = NearDuplicates.words(text)
        let lower = (title + " " + text).lowercased()
        if words.count < 8 {
            score -= 0.2
            reasons.append("very short")
        }
        let sentences = Summary.sentences(text)
        if !sentences.isEmpty {
            let average = Double(words.count) / Double(sentences.count)
            if average > 45 {
                score -= 0.2
                reasons.append("sentences too long to read")
            }
        }
        let boilerplateHits = boilerplate.filter { lower.contains($0) }.count
        if boilerplateHits > 0 {
            score -= min(0.3, 0.15 * Double(boilerplateHits))
            reasons.append("boilerplate")
        }
        let spamHits = spam.filter { lower.contains($0) }.count
        if spamHits > 0 {
            score -= min(0.6, 0.3 * Double(spamHits))
            reasons.append("spam phrases")
        }
        let letters = title.filter(\.isLetter)
        if letters.count >= 10, Double(letters.filter(\.isUppercase).count) / Double(letters.count) > 0.6 {
            score -= 0.3
            reasons.append("shouting title")
        }
        if (title + text).filter({ $0 == "!" }).count >= 4 {
            score -= 0.2
            reasons.append("exclamations")
        }
        if words.count >= 20, Double(Set(words).count) / Double(words.count) < 0.3 {
            score -= 0.3
            reasons.append("repetitive")
        }
        return Quality(score: max(0, min(1, score)), reasons: reasons)
    }
}
