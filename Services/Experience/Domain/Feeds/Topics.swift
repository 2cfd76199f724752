import Foundation
import ServiceKit

/// A topic of the tenant's taxonomy, described by keywords (words or phrases).
struct Topic: Codable, Sendable, Equatable {
    var key: String
    var name: String
    var keywords: [String]
    var version: Int

    var etag: String { "\"v\(version)\"" }
}

/// The body of `PUT /v1/admin/experience/topics/{key}`.
struct TopicInput: Decodable, Sendable {
    var name: String?
    var keywords: [String]?
}

enum TopicRules {
    static let maxTopics = 200
    static let maxKeywords = 100

    /// Lower-case letters, digits, '-' and '_', at most 80: it is what items and digests carry.
    static func key(_ raw: String?, _ v: inout Validator) -> String {
        let key = raw ?? ""
        v.check(
            (1...80).contains(key.count) && key.first.map { $0.isLowercase || $0.isNumber } == true
                && key.allSatisfy { ($0.isLetter && $0.isLowercase && $0.isASCII) || ($0.isNumber && $0.isASCII) || $0 == "-" || $0 == "_" },
            "key", "must be 1 to 80 lower-case letters, digits, '-' or '_', starting with a letter or digit")
        return key
    }

    static func keywords(_ raw: [String]?, _ v: inout Validator) -> [String] {
        var seen: Set<String> = []
        let keywords = (raw ?? []).map { NearDuplicates.words($0).joined(separator: " ") }.filter { !$0.isEmpty && seen.insert($0).inserted }
        v.check(!keywords.isEmpty, "keywords", "must hold at least one word or phrase")
        v.check(keywords.count <= maxKeywords, "keywords", "at most \(maxKeywords)")
        v.check(keywords.allSatisfy { $0.count <= 60 }, "keywords", "each must be at most 60 characters")
        v.check((raw ?? []).allSatisfy { !NearDuplicates.words($0).isEmpty }, "keywords", "each must hold a word")
        return keywords
    }
}

/// Files texts under the taxonomy's topics, several at once: a keyword's weight is its TF-IDF
/// with the topics as the documents (a word every topic names tells nothing), a topic's
/// evidence the sum over its keywords found (counted at most three times each), its score
/// 1 − e^(−evidence/2). Topics scoring `threshold` or more, best first, at most `maxLabels`.
struct TopicClassifier: Sendable {
    static let threshold = 0.3
    static let maxLabels = 3

    private let topics: [Topic]
    private let idf: [String: Double]

    init(_ topics: [Topic]) {
        self.topics = topics
        var documents: [String: Int] = [:]
        for topic in topics { for keyword in Set(topic.keywords) { documents[keyword, default: 0] += 1 } }
        let count = Double(max(topics.count, 1))
        idf = documents.mapValues { log(1 + count / Double($0)) }
    }

    var isEmpty: Bool { topics.isEmpty }

    func classify(_ text: String) -> [(key: String, score: Double)] {
        guard !topics.isEmpty else { return [] }
        let words = NearDuplicates.words(text).map(String.init)
        var counts: [String: Int] = [:]
        for word in words { counts[word, default: 0] += 1 }
        for (a, b) in zip(words, words.dropFirst()) { counts[a + " " + b, default: 0] += 1 }
        for index in words.indices.dropFirst(2) { counts[words[index - 2] + " " + words[index - 1] + " " + words[index], default: 0] += 1 }
        return topics.compactMap { topic -> (String, Double)? in
            let evidence = topic.keywords.reduce(0.0) { $0 + Double(min(counts[$1] ?? 0, 3)) * (idf[$1] ?? 0) }
            let score = 1 - exp(-evidence / 2)
            return score >= Self.threshold ? (topic.key, score) : nil
        }
        .sorted { ($0.1, $1.0) > ($1.1, $0.0) }.prefix(Self.maxLabels).map { ($0.0, $0.1) }
    }
}
