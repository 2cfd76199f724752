import Persistence
import Synchronization
import Testing

/// The batches a `BatchedCalls` ran, and a gate that holds the first one until opened.
private final class Batches: Sendable {
    let sizes = Mutex<[[Int]]>([])
    let gate = Mutex<CheckedContinuation<Void, Never>?>(nil)
    /// Calls made so far (counted just before each is made).
    let calling = Mutex(0)
    let holdFirst: Bool

    init(holdFirst: Bool = false) {
        self.holdFirst = holdFirst
    }

    func run(_ key: String, _ inputs: [Int]) async throws -> [Int] {
        let first = sizes.withLock { sizes in
            sizes.append(inputs)
            return sizes.count == 1
        }
        if first && holdFirst { await withCheckedContinuation { continuation in gate.withLock { $0 = continuation } } }
        if inputs.contains(-1) { throw Refused() }
        return inputs.map { $0 * 10 }
    }

    func open() async {
        while true {
            if let continuation = gate.withLock({ gate -> CheckedContinuation<Void, Never>? in
                defer { gate = nil }
                return gate
            }) {
                return continuation.resume()
            }
            await Task.yield()
        }
    }

    struct Refused: Error {}
}

@Suite("batched calls")
struct BatchedCallsTests {
    @Test("calls made while a batch runs go together in the next batch, each with its own answer")
    func gathersWhileBusy() async throws {
        let batches = Batches(holdFirst: true)
        let calls = BatchedCalls<String, Int, Int> { try await batches.run($0, $1) }
        async let first = calls(1, key: "tenant")
        // The first batch is running (held at its gate): these five wait for it.
        while batches.sizes.withLock({ $0.isEmpty }) { await Task.yield() }
        let answers = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for input in 2...6 {
                group.addTask {
                    batches.calling.withLock { $0 += 1 }
                    return (input, try await calls(input, key: "tenant"))
                }
            }
            while batches.gate.withLock({ $0 == nil }) || batches.calling.withLock({ $0 }) < 5 { await Task.yield() }
            // Each call registers a moment after it is made.
            try await Task.sleep(for: .milliseconds(200))
            await batches.open()
            var answers: [Int: Int] = [:]
            for try await (input, answer) in group { answers[input] = answer }
            return answers
        }
        #expect(try await first == 10)
        #expect(answers == [2: 20, 3: 30, 4: 40, 5: 50, 6: 60])
        #expect(batches.sizes.withLock { $0.map { $0.sorted() } } == [[1], [2, 3, 4, 5, 6]])
    }

    @Test("calls within the linger run as one batch; other keys never share it")
    func lingers() async throws {
        let batches = Batches()
        let calls = BatchedCalls<String, Int, Int>(linger: .milliseconds(500)) { try await batches.run($0, $1) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for input in 1...8 { group.addTask { _ = try await calls(input, key: input <= 5 ? "a" : "b") } }
            try await group.waitForAll()
        }
        #expect(batches.sizes.withLock { $0.map { $0.sorted() }.sorted { $0.count > $1.count } } == [[1, 2, 3, 4, 5], [6, 7, 8]])
    }

    @Test("a failed batch fails every call in it, and the next batch runs")
    func failureReachesEveryone() async throws {
        let batches = Batches()
        let calls = BatchedCalls<String, Int, Int>(linger: .milliseconds(300)) { try await batches.run($0, $1) }
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for input in [-1, 2, 3] { group.addTask { (try? await calls(input, key: "tenant")) != nil } }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes == [false, false, false])
        #expect(try await calls(4, key: "tenant") == 40)
    }
}
