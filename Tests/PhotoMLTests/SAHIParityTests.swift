import Foundation
import Testing

@testable import PhotoML

/// Our slicing and merging against the PyPI `sahi` package (pinned in `.dev/venv` by
/// `infra/dev/fuzz.sh`, which `make test` runs first): the same tiles, and for the same
/// per-tile detections the same merged boxes, scores and classes.
@Suite("SAHI parity")
struct SAHIParityTests {
    struct Cases: Codable {
        struct SliceCase: Codable {
            var width: Int
            var height: Int
            var tile: [Int]
            var overlap: [Double]
        }
        struct MergeCase: Codable {
            var strategy: String
            var metric: String
            var threshold: Double
            var classAgnostic: Bool
            var detections: [[Double]]
        }
        var slices: [SliceCase]
        var merges: [MergeCase]
    }

    struct Answers: Codable {
        var slices: [[[Int]]]
        var merges: [[[Double]]]
    }

    @Test("tiles of many photo and tile sizes, and greedy NMM and NMS merges of clustered detections, equal sahi's")
    func parity() throws {
        var random = SeededRandom(seed: 20_261_207)
        let slices = [
            (4000, 3000, [512, 512], [0.25, 0.25]), (512, 512, [512, 512], [0.25, 0.25]), (511, 300, [512, 512], [0.25, 0.25]),
            (1000, 1000, [512, 512], [0.2, 0.1]), (5000, 200, [640, 480], [0.25, 0.5]), (3000, 4000, [512, 512], [0, 0]),
            (1, 1, [512, 512], [0.25, 0.25]),
        ].map { Cases.SliceCase(width: $0.0, height: $0.1, tile: $0.2, overlap: $0.3) }
        var merges: [Cases.MergeCase] = []
        for (strategy, metric, threshold, agnostic) in [
            ("greedyNMM", "ios", 0.5, false), ("greedyNMM", "ios", 0.5, true), ("greedyNMM", "iou", 0.5, false), ("greedyNMM", "ios", 0.3, false),
            ("nms", "ios", 0.5, false), ("nms", "iou", 0.5, true), ("greedyNMM", "iou", 0.7, true),
        ] {
            for _ in 0..<4 {
                merges.append(
                    Cases.MergeCase(
                        strategy: strategy, metric: metric, threshold: threshold, classAgnostic: agnostic, detections: Self.clustered(&random)))
            }
        }
        // Equal scores across classes: which box is kept, and whose class the merge takes.
        merges.append(
            Cases.MergeCase(
                strategy: "greedyNMM", metric: "ios", threshold: 0.5, classAgnostic: true,
                detections: [[10, 10, 50, 50, 0.8, 1], [12, 12, 48, 48, 0.8, 2], [100, 100, 140, 140, 0.6, 0], [101, 99, 139, 141, 0.6, 1]]))
        let cases = Cases(slices: slices, merges: merges)
        let reference = try Self.sahi(cases)

        for (index, slice) in slices.enumerated() {
            let tiles = Slicing(tileWidth: slice.tile[0], tileHeight: slice.tile[1], overlapWidth: slice.overlap[0], overlapHeight: slice.overlap[1])
                .tiles(width: slice.width, height: slice.height)
            #expect(tiles.map { [$0.x1, $0.y1, $0.x2, $0.y2] } == reference.slices[index], "slices of \(slice.width) × \(slice.height)")
        }
        for (index, merge) in merges.enumerated() {
            let merging = Merging(
                strategy: Merging.Strategy(rawValue: merge.strategy) ?? .greedyNMM, metric: Merging.Metric(rawValue: merge.metric) ?? .ios,
                threshold: merge.threshold, classAgnostic: merge.classAgnostic)
            let ours = merging.merge(
                merge.detections.map { Detection(box: Box(x1: $0[0], y1: $0[1], x2: $0[2], y2: $0[3]), score: $0[4], classID: Int($0[5])) }
            )
            .map { [$0.box.x1, $0.box.y1, $0.box.x2, $0.box.y2, $0.score, Double($0.classID)] }
            let theirs = reference.merges[index]
            #expect(
                ours.count == theirs.count,
                "case \(index) (\(merge.strategy), \(merge.metric) \(merge.threshold)): \(ours.count) boxes, sahi \(theirs.count)")
            #expect(Self.sorted(ours) == Self.sorted(theirs), "case \(index) (\(merge.strategy), \(merge.metric) \(merge.threshold))")
        }
    }

    /// 60 detections around 12 objects, as neighbouring tiles and seams produce them:
    /// shifted, cut and rescored copies; scores of two decimals, so some tie.
    static func clustered(_ random: inout SeededRandom) -> [[Double]] {
        var detections: [[Double]] = []
        for _ in 0..<12 {
            let (x, y) = (random.double(in: 10...900), random.double(in: 10...900))
            let (w, h) = (random.double(in: 12...60), random.double(in: 12...60))
            let classID = Double(random.int(in: 0...2))
            for _ in 0..<5 {
                let cutLeft = random.double(in: 0...(w * 0.6))
                let cutTop = random.double(in: 0...(h * 0.3))
                let jitter = random.double(in: -4...4)
                let score = (random.double(in: 0.3...0.99) * 100).rounded() / 100
                let otherClass = random.int(in: 0...9) == 0 ? Double(random.int(in: 0...2)) : classID
                detections.append([x + cutLeft + jitter, y + cutTop, x + w + jitter, y + h, score, otherClass])
            }
        }
        return detections
    }

    static func sorted(_ boxes: [[Double]]) -> [[Double]] {
        boxes.map { $0.map { ($0 * 1e6).rounded() / 1e6 } }.sorted { $0.lexicographicallyPrecedes($1) }
    }

    static func sahi(_ cases: Cases) throws -> Answers {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let process = Process()
        process.executableURL = root.appendingPathComponent(".dev/venv/bin/python")
        process.arguments = [root.appendingPathComponent("infra/dev/sahi_reference.py").path]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(try JSONEncoder().encode(cases))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return try JSONDecoder().decode(Answers.self, from: data)
    }
}

/// A small deterministic generator (SplitMix64), so a failing case can be found again.
struct SeededRandom {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func double(in range: ClosedRange<Double>) -> Double {
        range.lowerBound + Double(next() >> 11) / Double(1 << 53) * (range.upperBound - range.lowerBound)
    }

    mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }
}
