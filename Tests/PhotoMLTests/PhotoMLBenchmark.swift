import Foundation
import TestSupport
import Testing

/// `make bench-photoml` (release build): 12 MP synthetic nursery photos (4000 × 3000, about
/// 500 plants of 20–60 px; `ml/make_bench_photos.py`) through the service, upload to
/// completed: the time and each stage's, the count against the truth, the process's peak
/// memory; then photos per minute with 4 uploads at once. Prints figures; asserts none.
@Suite("photoml benchmark", .enabled(if: ProcessInfo.processInfo.environment["BENCH_PHOTOML"] != nil), .serialized)
struct PhotoMLBenchmark {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".dev/bench/photoml")

    /// Upload, then poll every 20 ms until the session is done; answers the seconds and the session.
    static func timed(_ grower: Grower, _ bytes: [UInt8], bench: String) async throws -> (Double, HTTPAnswer) {
        let clock = ContinuousClock()
        let started = clock.now
        let uploaded = try await grower.upload(bytes, fields: ["locationId": bench])
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
