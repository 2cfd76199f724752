import ArgumentParser
import Foundation

/// `experience pipeline-bench`: a generated corpus of articles, a fifth of them rewrites of
/// another (the same story from another source), through the intake's stages in this
/// process (quality, TextRank summary, language, topics, MinHash signature, LSH clustering
/// in batches); prints articles/s per core and the clustering's precision and recall
/// against the planted stories. The database writes are not included.
struct PipelineBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline-bench", abstract: "Articles/s through the content pipeline's stages, and near-duplicate precision/recall.")

    @Option var articles = 50_000
    @Option(help: "Share of articles that rewrite another.") var duplicates = 0.2
    @Option(help: "Articles clustered per batch.") var batch = 1000
    @Option(help: "Where the corpus and our clusters go (JSON lines), for ml/near_duplicates_baseline.py.") var out: String?

    func run() throws {
        let (entries, story) = Self.corpus(articles: articles, duplicates: duplicates)
        let source = Source(
            id: UUID(), userId: nil, url: "https://bench.example/feed", siteUrl: nil, title: "Bench", format: "rss", state: .active, failures: 0,
            failingSince: nil, lastError: nil, nextFetchAt: Date(), lastFetchedAt: nil, fetched: 0, notModified: 0, failed: 0, itemsNew: 0,
            createdAt: Date())
        let classifier = TopicClassifier(
            (0..<20).map { Topic(key: "topic-\($0)", name: "Topic \($0)", keywords: (0..<10).map { "w\($0 * 10 + $0 % 7)" }, version: 1) })
        let started = Date()
        let cpuBefore = Self.cpuSeconds()
        // The stages per article, on both cores (as the job queue would run fetches side by side).
        let chunks = 64
        let results = ResultSlots(count: chunks)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let slice = Array(entries[(entries.count * chunk / chunks)..<(entries.count * (chunk + 1) / chunks)])
            let feed = ParsedFeed(format: .rss, title: "Bench", link: nil, entries: slice)
            let (drafts, _) = FeedItems.drafts(feed, source: source, topics: classifier, now: Date())
            results.set(chunk, drafts.map { Processed(key: $0.item.key, text: $0.text, signature: NearDuplicates.signature($0.text)) })
        }
        let processed = results.all
        let staged = Date()
        let clusters = NearDuplicates.cluster(processed.map(\.signature), batchSize: batch)
        let seconds = Date().timeIntervalSince(started)
        let cpu = Self.cpuSeconds() - cpuBefore
        let position = Dictionary(uniqueKeysWithValues: entries.enumerated().map { (FeedItems.key($0.element), $0.offset) })
        let stories = processed.map { story[position[$0.key] ?? 0] }
        let (precision, recall) = Self.pairwise(clusters: clusters, story: stories)
        print("pipeline: \(articles) articles (\(Int(duplicates * 100)) % rewrites), \(processed.count) passed quality")
        print(
            String(
                format: "stages %.1f s, clustering %.1f s (batches of %d): %.0f articles/s, %.0f per CPU second", staged.timeIntervalSince(started),
                Date().timeIntervalSince(staged), batch, Double(articles) / seconds, Double(articles) / max(cpu, 0.001)))
        print(String(format: "near-duplicates: pairwise precision %.3f, recall %.3f against the planted stories", precision, recall))
        if let out {
            // One JSON line per article: its text, its planted story, our cluster.
            var lines = ""
            for (index, article) in processed.enumerated() {
                let line = try JSONSerialization.data(withJSONObject: ["text": article.text, "story": stories[index], "cluster": clusters[index]])
                lines += String(decoding: line, as: UTF8.self) + "\n"
            }
            try Data(lines.utf8).write(to: URL(fileURLWithPath: out))
        }
    }

    struct Processed: Sendable {
        var key: String
        var text: String
        var signature: [UInt64]
    }

    /// Results of the parallel chunks, each written once by its own chunk.
    final class ResultSlots: @unchecked Sendable {
        private var slots: [[Processed]]
        private let lock = NSLock()
        init(count: Int) { slots = Array(repeating: [], count: count) }
        func set(_ index: Int, _ value: [Processed]) { lock.withLock { slots[index] = value } }
        var all: [Processed] { lock.withLock { slots.flatMap { $0 } } }
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// Articles of 6–12 sentences over a 3,000-word vocabulary; a rewrite changes a few words
    /// and its title, adds a sentence and drops one.
    static func corpus(articles: Int, duplicates: Double) -> (entries: [FeedEntry], story: [Int]) {
        var random = SeededRandom(seed: 17)
        let vocabulary = (0..<3000).map { "w\($0)" }
        func sentence() -> String {
            let words = (0..<Int.random(in: 8...20, using: &random)).map { _ in vocabulary[Int.random(in: 0..<vocabulary.count, using: &random)] }
            return words.joined(separator: " ").capitalizedFirst + "."
        }
        var entries: [FeedEntry] = []
        var texts: [[String]] = []
        var story: [Int] = []
        for index in 0..<articles {
            if index > 0, Double.random(in: 0..<1, using: &random) < duplicates {
                let original = Int.random(in: 0..<texts.count, using: &random)
                var sentences = texts[original]
                sentences.remove(at: Int.random(in: 0..<sentences.count, using: &random))
                sentences.append(sentence())
                sentences = sentences.map { text in
                    var words = text.split(separator: " ").map(String.init)
                    if words.count > 3, Double.random(in: 0..<1, using: &random) < 0.3 {
                        words[Int.random(in: 1..<words.count, using: &random)] = vocabulary[Int.random(in: 0..<vocabulary.count, using: &random)]
                    }
                    return words.joined(separator: " ")
                }
                texts.append(sentences)
                story.append(story[original])
            } else {
                texts.append((0..<Int.random(in: 6...12, using: &random)).map { _ in sentence() })
                story.append(index)
            }
            let body = texts[index].joined(separator: " ")
            entries.append(
                FeedEntry(
                    id: "a\(index)", url: URL(string: "https://bench.example/a/\(index)"), title: "Story \(story[index]) as told by \(index)",
                    summary: nil,
                    content: body, categories: []))
        }
        return (entries, story)
    }

    /// Pairwise precision and recall of the clusters against the planted stories.
    static func pairwise(clusters: [Int], story: [Int]) -> (Double, Double) {
        var byCluster: [Int: [Int]] = [:]
        var byStory: [Int: [Int]] = [:]
        for index in clusters.indices {
            byCluster[clusters[index], default: []].append(index)
            byStory[story[index], default: []].append(index)
        }
        func pairs(_ groups: [Int: [Int]]) -> Int { groups.values.reduce(0) { $0 + $1.count * ($1.count - 1) / 2 } }
        var right = 0
        for members in byCluster.values {
            var perStory: [Int: Int] = [:]
            for member in members { perStory[story[member], default: 0] += 1 }
            right += perStory.values.reduce(0) { $0 + $1 * ($1 - 1) / 2 }
        }
        let found = pairs(byCluster)
        let truth = pairs(byStory)
        return (found == 0 ? 1 : Double(right) / Double(found), truth == 0 ? 1 : Double(right) / Double(truth))
    }
}

extension String {
    fileprivate var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
