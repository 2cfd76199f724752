import Synchronization

/// Calls under the same key share one transaction and one statement when they come faster
/// than the database answers them: while a key's batch runs, the calls that arrive wait and
/// then run together as the next batch (group commit). A call that finds its key idle runs
/// after `linger` (zero by default: at once), so a quiet service waits for nothing and a busy
/// one makes one round trip for many callers. Like a Kafka producer's `linger.ms`, a linger
/// trades a little latency for bigger batches where latency matters less than round trips.
/// An error of a batch reaches every caller in it.
public final class BatchedCalls<Key: Hashable & Sendable, Input: Sendable, Output: Sendable>: Sendable {
    /// Answers one output per input, in the inputs' order.
    public typealias Run = @Sendable (Key, [Input]) async throws -> [Output]

    private struct Waiting {
        var inputs: [Input] = []
        var callers: [CheckedContinuation<Output, any Error>] = []
    }

    /// Per key with a batch lingering or running: the calls waiting for the next one.
    private let busy = Mutex<[Key: Waiting]>([:])
    private let linger: Duration
    private let maxBatch: Int
    private let run: Run

    public init(linger: Duration = .zero, maxBatch: Int = 200, run: @escaping Run) {
        self.linger = linger
        self.maxBatch = max(1, maxBatch)
        self.run = run
    }

    public func callAsFunction(_ input: Input, key: Key) async throws -> Output {
        try await withCheckedThrowingContinuation { caller in
            let idle = busy.withLock { busy -> Bool in
                let idle = busy[key] == nil
                busy[key, default: Waiting()].inputs.append(input)
                busy[key, default: Waiting()].callers.append(caller)
                return idle
            }
            guard idle else { return }
            Task {
                if self.linger > .zero { try? await Task.sleep(for: self.linger) }
                await self.drain(key)
            }
        }
    }

    /// Runs what waits under `key`, batch after batch, until nothing does.
    private func drain(_ key: Key) async {
        while true {
            let batch = busy.withLock { busy -> Waiting? in
                guard var waiting = busy[key], !waiting.inputs.isEmpty else {
                    busy[key] = nil
                    return nil
                }
                let count = min(waiting.inputs.count, maxBatch)
                let taken = Waiting(inputs: Array(waiting.inputs.prefix(count)), callers: Array(waiting.callers.prefix(count)))
                waiting.inputs.removeFirst(count)
                waiting.callers.removeFirst(count)
                busy[key] = waiting
                return taken
            }
            guard let batch else { return }
            await execute(batch, key: key)
        }
    }

    private func execute(_ batch: Waiting, key: Key) async {
        do {
            let outputs = try await run(key, batch.inputs)
            guard outputs.count == batch.inputs.count else {
                throw BatchedCallsMismatch(inputs: batch.inputs.count, outputs: outputs.count)
            }
            for (caller, output) in zip(batch.callers, outputs) { caller.resume(returning: output) }
        } catch {
            for caller in batch.callers { caller.resume(throwing: error) }
        }
    }
}

extension BatchedCalls {
    /// Lookups by id: `find` answers what it found by id; an id it did not find answers nil.
    public static func lookups<Found: Sendable>(
        linger: Duration = .zero, find: @escaping @Sendable (Key, [Input]) async throws -> [Input: Found]
    ) -> BatchedCalls<Key, Input, Found?> where Input: Hashable, Output == Found? {
        BatchedCalls(linger: linger) { key, ids in
            let found = try await find(key, ids)
            return ids.map { found[$0] }
        }
    }

    /// Writes that answer nothing.
    public static func writes(linger: Duration = .zero, write: @escaping @Sendable (Key, [Input]) async throws -> Void) -> BatchedCalls
    where Output == Void {
        BatchedCalls(linger: linger) { key, inputs in
            try await write(key, inputs)
            return inputs.map { _ in () }
        }
    }
}

/// A batch answered a different number of outputs than it was given inputs: a bug in its `run`.
public struct BatchedCallsMismatch: Error, CustomStringConvertible {
    public let inputs: Int
    public let outputs: Int
    public var description: String { "a batch of \(inputs) calls answered \(outputs) results" }
}
