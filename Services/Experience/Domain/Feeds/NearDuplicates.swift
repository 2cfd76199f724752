import Foundation

/// Near-duplicate articles (the same story from several sources) without comparing every
/// pair: each text becomes a MinHash signature of its word 3-shingles, whose agreement
/// estimates the texts' Jaccard similarity; LSH cuts the signature into bands, and only texts
/// that share a whole band are compared. With 32 bands of 4 rows, pairs at Jaccard 0.5 meet
/// with probability 1 − (1 − 0.5⁴)³² ≈ 0.87, at 0.7 ≈ 0.9998, at 0.2 ≈ 0.05.
enum NearDuplicates {
    static let permutations = 128
    static let bands = 32
    static var rows: Int { permutations / bands }
    /// Estimated Jaccard at or above which two articles are the same story.
    static let threshold = 0.5

    /// Lower-cased words of letters and digits; markup is expected gone already.
    static func words(_ text: String) -> [Substring] {
        text.lowercased().split { !($0.isLetter || $0.isNumber) }
    }

    /// Hashes of the text's word 3-shingles (FNV-1a, stable across processes); shorter texts
    /// shingle what they have.
    static func shingles(_ text: String) -> Set<UInt64> {
        let words = words(text)
        guard !words.isEmpty else { return [] }
        let width = min(3, words.count)
        var shingles: Set<UInt64> = []
        for start in 0...(words.count - width) {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for word in words[start..<(start + width)] {
                for byte in word.utf8 {
                    hash ^= UInt64(byte)
                    hash = hash &* 0x100_0000_01b3
                }
                hash ^= 0x20
                hash = hash &* 0x100_0000_01b3
            }
            shingles.insert(hash)
        }
        return shingles
    }

    /// The i-th hash function: a mixed 64-bit permutation of the shingle hash with seed i.
    @inline(__always)
    static func permute(_ value: UInt64, _ seed: Int) -> UInt64 {
        var z = value &+ UInt64(seed + 1) &* 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// The minimum of each permutation over the shingles; empty text: all maxima.
    static func signature(_ text: String) -> [UInt64] {
        let shingles = shingles(text)
        return (0..<permutations).map { seed in shingles.reduce(UInt64.max) { min($0, permute($1, seed)) } }
    }

    /// The share of permutations whose minima agree: an estimate of Jaccard similarity.
    static func similarity(_ a: [UInt64], _ b: [UInt64]) -> Double {
        guard a.count == b.count, !a.isEmpty else { return 0 }
        return Double(zip(a, b).filter { $0 == $1 }.count) / Double(a.count)
    }

    /// One hash per band (its rows folded), as stored and matched: two signatures that share a
    /// band value are candidates. Band i's value carries i, so bands never match across positions.
    static func bandHashes(_ signature: [UInt64]) -> [Int64] {
        (0..<bands).map { band in
            var hash = UInt64(band) &* 0x9e37_79b9_7f4a_7c15
            for row in 0..<rows { hash = permute(hash ^ signature[band * rows + row], band) }
            return Int64(bitPattern: hash)
        }
    }

    /// Clusters documents in batches of `batchSize` against an index of every document seen
    /// so far: candidates from shared bands only, joined when similar enough. Answers each
    /// document's cluster as the index of its cluster's first document.
    static func cluster(_ signatures: [[UInt64]], batchSize: Int = 1000) -> [Int] {
        var parent = Array(signatures.indices)
        func root(_ i: Int) -> Int {
            var i = i
            while parent[i] != i {
                parent[i] = parent[parent[i]]
                i = parent[i]
            }
            return i
        }
        var index: [Int64: [Int]] = [:]
        for start in stride(from: 0, to: signatures.count, by: max(1, batchSize)) {
            for document in start..<min(start + max(1, batchSize), signatures.count) {
                var compared: Set<Int> = []
                let bands = bandHashes(signatures[document])
                for band in bands {
                    for other in index[band] ?? [] where compared.insert(other).inserted {
                        if similarity(signatures[document], signatures[other]) >= threshold {
                            let (a, b) = (root(document), root(other))
                            if a != b { parent[max(a, b)] = min(a, b) }
                        }
                    }
                }
                for band in bands { index[band, default: []].append(document) }
            }
        }
        return signatures.indices.map(root)
    }
}
