import Foundation
import TestSupport
import Testing

@testable import PhotoML

/// `make bench-photoml` (release build): 12 MP synthetic nursery photos (4000 × 3000, about
/// 500 plants of 20–60 px; `ml/make_bench_photos.py`) through the service, upload to
/// completed: the time and each stage's, the count against the truth, the process's peak
/// memory; then photos per minute with 4 uploads at once. Prints figures; asserts none.
@Suite("photoml benchmark", .enabled(if: ProcessInfo.processInfo.environment["BENCH_PHOTOML"] != nil), .serialized)
struct PhotoMLBenchmark {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".dev/bench/photoml")

    /// Upload (processed again even when the bytes were seen), then poll every 20 ms until the
    /// session is done; answers the seconds and the session.
    static func timed(_ grower: Grower, _ bytes: [UInt8], bench: String) async throws -> (Double, HTTPAnswer) {
        let clock = ContinuousClock()
        let started = clock.now
        let uploaded = try await grower.upload(bytes, fields: ["locationId": bench, "reprocess": "true"])
        let session = try #require(uploaded.string("id"), "upload answered \(uploaded.status)")
        while true {
            let answer = try await grower.send("GET", "/v1/photo-sessions/\(session)")
            if !["pending", "processing"].contains(answer.string("state") ?? "") {
                let elapsed = clock.now - started
                return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, answer)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    static func peakResidentMB() -> Double {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
        return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
    }

    @Test("12 MP photos: upload to completed, per stage, count error; photos per minute with 4 at once")
    func endToEnd() async throws {
        let truth = try JSONDecoder().decode([String: Int].self, from: Data(contentsOf: Self.directory.appendingPathComponent("truth.json")))
        let names = truth.keys.sorted()
        let photos = try names.map { [UInt8](try Data(contentsOf: Self.directory.appendingPathComponent($0))) }
        let grower = try await Grower.fresh()
        let (_, _, bench) = try await grower.site()
        print("photoml benchmark: \(names.count) photos of 4000 × 3000, \(ProcessInfo.processInfo.activeProcessorCount) cores")
        // A warm-up, so the first figure does not include the model's first compilation of shapes.
        _ = try await Self.timed(grower, photos[0], bench: bench)
        var errors: [Double] = []
        for (name, bytes) in zip(names, photos) {
            let (seconds, answer) = try await Self.timed(grower, bytes, bench: bench)
            let result = answer.json["result"] as? [String: Any] ?? [:]
            let detected = result["detected"] as? Int ?? -1
            let plants = truth[name] ?? 0
            let error = Double(abs(detected - plants)) / Double(max(1, plants))
            errors.append(error)
            let stages = (result["stages"] as? [String: Double] ?? [:]).sorted { $0.key < $1.key }.map {
                String(format: "%@ %.2f s", $0.key, $0.value)
            }
            print(
                String(
                    format: "  %@ (%.1f MB): upload to completed %.2f s; %d plants, %d detected (%.1f %% off); %@", name,
                    Double(bytes.count) / 1_048_576, seconds, plants, detected, error * 100, stages.joined(separator: ", ")))
        }
        print(String(format: "  mean absolute count error: %.2f %%", errors.reduce(0, +) / Double(max(1, errors.count)) * 100))
        print(String(format: "  peak resident memory of the process (service and test): %.0f MB", Self.peakResidentMB()))
        // Throughput: 8 photos, 4 uploads at a time.
        let clock = ContinuousClock()
        let started = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<4 {
                group.addTask {
                    for round in 0..<2 { _ = try await Self.timed(grower, photos[(lane + round) % photos.count], bench: bench) }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = clock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(String(format: "  sustained, 4 uploads at once: 8 photos in %.1f s = %.1f photos/minute", seconds, 8 / seconds * 60))
    }
}

/// `make bench-photoml`, second part: what slicing buys. The same 12 MP photos through the
/// detector in three ways (sliced, whole photo only, sliced plus the whole-photo pass):
/// recall and precision at IoU 0.5 against the drawn plants, and the count error.
@Suite("photoml accuracy benchmark", .enabled(if: ProcessInfo.processInfo.environment["BENCH_PHOTOML"] != nil), .serialized)
struct PhotoMLAccuracyBenchmark {
    struct Score {
        var truePositives = 0
        var found = 0
        var plants = 0
        var countErrors: [Double] = []
        var seconds = 0.0

        mutating func add(_ detections: [Detection], truth: [Box]) {
            let iou = Merging(strategy: .nms, metric: .iou, threshold: 0.5, classAgnostic: true)
            var taken = [Bool](repeating: false, count: truth.count)
            // Greedy by score, each plant matched once: the usual detection benchmark's rule.
            for detection in detections.sorted(by: { $0.score > $1.score }) {
                var best = -1
                var bestOverlap = 0.5
                for (index, plant) in truth.enumerated() where !taken[index] {
                    let overlap = iou.overlap(detection.box, plant)
                    if overlap >= bestOverlap {
                        best = index
                        bestOverlap = overlap
                    }
                }
                if best >= 0 {
                    taken[best] = true
                    truePositives += 1
                }
            }
            found += detections.count
            plants += truth.count
            countErrors.append(Double(abs(detections.count - truth.count)) / Double(max(1, truth.count)))
        }

        var line: String {
            String(
                format: "recall %.3f, precision %.3f, mean count error %.2f %%, %.2f s a photo", Double(truePositives) / Double(max(1, plants)),
                Double(truePositives) / Double(max(1, found)), countErrors.reduce(0, +) / Double(max(1, countErrors.count)) * 100,
                seconds / Double(max(1, countErrors.count)))
        }
    }

    @Test("sliced against whole-photo inference: recall and precision at IoU 0.5, count error")
    func slicingBuys() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: PhotoMLBenchmark.directory.path)
            .filter { $0.hasSuffix(".jpg") }.sorted()
        var detector = Detector(
            runtime: try ModelRuntime(modelPath: try #require(ModelCard.bundledModelPath)), decoder: YOLODecoder(classes: 1))
        var sliced = Score()
        var whole = Score()
        var both = Score()
        let clock = ContinuousClock()
        for name in names {
            let bytes = [UInt8](try Data(contentsOf: PhotoMLBenchmark.directory.appendingPathComponent(name)))
            let boxes = try JSONDecoder().decode(
                [[Double]].self,
                from: Data(contentsOf: PhotoMLBenchmark.directory.appendingPathComponent(name.replacingOccurrences(of: ".jpg", with: ".boxes.json"))))
            let truth = boxes.map { Box(x1: $0[0], y1: $0[1], x2: $0[2], y2: $0[3]) }
            let photo = try PhotoDecoder.decode(bytes, header: try ImageHeader.read(bytes))
            detector.fullImagePass = false
            var started = clock.now
            sliced.add(try detector.detect(photo).merged, truth: truth)
            sliced.seconds += PhotoJobs.seconds(clock.now - started)
            started = clock.now
            whole.add(detector.merging.merge(try detector.wholePhoto(photo)), truth: truth)
            whole.seconds += PhotoJobs.seconds(clock.now - started)
            detector.fullImagePass = true
            started = clock.now
            both.add(try detector.detect(photo).merged, truth: truth)
            both.seconds += PhotoJobs.seconds(clock.now - started)
        }
        print("photoml accuracy: \(names.count) photos of 4000 × 3000, \(sliced.plants) plants of 20–60 px")
        print("  sliced (512 × 512 tiles, 25 % overlap):   \(sliced.line)")
        print("  whole photo only (shrunk to 512 × 384):    \(whole.line)")
        print("  sliced plus the whole-photo pass:           \(both.line)")
        print(
            String(
                format: "  slicing finds %.0f× the plants whole-photo inference finds",
                Double(sliced.truePositives) / Double(max(1, whole.truePositives))))
    }
}
