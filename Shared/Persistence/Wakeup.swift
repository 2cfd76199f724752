import Foundation
import Logging
import PostgresNIO
import Synchronization

/// "New rows to process": raised by `Database.listen` when a table's trigger notifies, awaited
/// with a fallback poll by the outbox relay and the job worker. A wake-up call is kept until
/// taken: raising twice before a wait wakes it once.
/// (An AsyncStream cannot do this: a wait that times out cancels its iterator, which
/// finishes the stream, and every later wait would return at once.)
public final class Wakeup: Sendable {
    private struct State {
        var raised = false
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    public func raise() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.waiters.isEmpty else {
                state.raised = true
                return []
            }
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns when raised (or if raised since the last wait), after `limit`, or when the
    /// task is cancelled.
    public func wait(upTo limit: Duration) async {
        let id = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        let timer = Task { [self] in
            try? await Task.sleep(for: limit)
            resume(id)
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let waiting = state.withLock { state in
                    if state.raised || Task.isCancelled {
                        state.raised = false
                        return false
                    }
                    state.waiters[id] = continuation
                    return true
                }
                if !waiting { continuation.resume() }
            }
        } onCancel: {
            resume(id)
        }
        timer.cancel()
    }

    private func resume(_ id: UInt64) {
        state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
    }
}

extension Database {
    /// Listens on `channel` until the task is cancelled, reconnecting after a lost
    /// connection; `received` gets each notification's payload. Notifications can be lost
    /// (while reconnecting): listeners also poll.
    public func listen(on channel: String, _ received: @escaping @Sendable (String) -> Void) async {
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: channel) { notifications in
                        // Whatever was written while no one listened is looked for now.
                        received("")
                        for try await notification in notifications { received(notification.payload) }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.debug("listener reconnecting", metadata: ["channel": "\(channel)", "error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
