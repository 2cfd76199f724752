import Foundation
import Testing

@testable import Experience

@Suite("near-duplicates: MinHash with LSH banding")
struct NearDuplicateTests {
    static let vocabulary = (0..<5000).map { "w\($0)" }

    /// `stories` articles of 60 random words; each story also rewritten by `copies` other
    /// sources (a few words changed, a sentence added), the same story in other words.
    static func corpus(stories: Int, copies: Int, seed: UInt64 = 5) -> (texts: [String], story: [Int]) {
        var random = SeededRandom(seed: seed)
        var texts: [String] = []
        var story: [Int] = []
        for s in 0..<stories {
            let original = (0..<60).map { _ in vocabulary[Int.random(in: 0..<vocabulary.count, using: &random)] }
            texts.append(original.joined(separator: " "))
            story.append(s)
            for _ in 0..<copies {
                var copy = original
                for _ in 0..<4 {
                    copy[Int.random(in: 0..<copy.count, using: &random)] = vocabulary[Int.random(in: 0..<vocabulary.count, using: &random)]
                }
                copy += (0..<5).map { _ in vocabulary[Int.random(in: 0..<vocabulary.count, using: &random)] }
                texts.append(copy.joined(separator: " "))
                story.append(s)
            }
        }
        return (texts, story)
    }

    @Test("the signature estimates Jaccard similarity of the shingles")
    func estimate() {
        let a = (0..<200).map { "a\($0)" }
        let b = Array(a[0..<150]) + (0..<50).map { "b\($0)" }
        let exact =
            Double(NearDuplicates.shingles(a.joined(separator: " ")).intersection(NearDuplicates.shingles(b.joined(separator: " "))).count)
            / Double(NearDuplicates.shingles(a.joined(separator: " ")).union(NearDuplicates.shingles(b.joined(separator: " "))).count)
        let estimated = NearDuplicates.similarity(
            NearDuplicates.signature(a.joined(separator: " ")), NearDuplicates.signature(b.joined(separator: " ")))
        #expect(abs(estimated - exact) < 0.12, "exact \(exact), estimated \(estimated)")
        #expect(NearDuplicates.similarity(NearDuplicates.signature("Same text here"), NearDuplicates.signature("same TEXT, here!")) == 1)
    }

    @Test("planted rewrites of a story cluster together and apart from other stories, in batches, with high precision and recall")
    func plantedClusters() {
        let (texts, story) = Self.corpus(stories: 300, copies: 2)
        let clusters = NearDuplicates.cluster(texts.map(NearDuplicates.signature), batchSize: 100)
        // Pairwise precision and recall over same-story pairs.
        var truePairs = 0
        var foundPairs = 0
        var right = 0
        for i in texts.indices {
            for j in texts.indices where j > i {
                let same = story[i] == story[j]
                let together = clusters[i] == clusters[j]
                if same { truePairs += 1 }
                if together { foundPairs += 1 }
                if same && together { right += 1 }
            }
        }
        let precision = Double(right) / Double(max(foundPairs, 1))
        let recall = Double(right) / Double(truePairs)
        #expect(precision >= 0.99, "precision \(precision)")
        #expect(recall >= 0.95, "recall \(recall)")
    }

    @Test("band hashes differ by position, so equal rows in different bands do not make candidates")
    func bands() {
        let signature = [UInt64](repeating: 7, count: NearDuplicates.permutations)
        let hashes = NearDuplicates.bandHashes(signature)
        #expect(hashes.count == NearDuplicates.bands)
        #expect(Set(hashes).count == NearDuplicates.bands)
    }
}
