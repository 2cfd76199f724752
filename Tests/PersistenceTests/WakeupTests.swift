import Foundation
import Persistence
import Synchronization
import Testing

@Suite("wake-up calls")
struct WakeupTests {
    final class Flag: Sendable {
        private let value = Atomic<Bool>(false)
        var raised: Bool { value.load(ordering: .sequentiallyConsistent) }
        func raise() { value.store(true, ordering: .sequentiallyConsistent) }
    }

    /// A task waiting on `wakeup`, and a flag it raises when woken.
    static func waiting(on wakeup: Wakeup) -> (Flag, Task<Void, Never>) {
        let woken = Flag()
        let waiter = Task {
            await wakeup.wait(upTo: .seconds(30))
            woken.raise()
        }
        return (woken, waiter)
    }

    @Test("a wait after one that timed out still waits until raised")
    func waitsAfterATimeout() async throws {
        let wakeup = Wakeup()
        await wakeup.wait(upTo: .milliseconds(10))
        let (woken, waiter) = Self.waiting(on: wakeup)
        try await Task.sleep(for: .milliseconds(300))
        #expect(!woken.raised)
        wakeup.raise()
        await waiter.value
        #expect(woken.raised)
    }

    @Test("a raise before the wait is kept for it, and two raises wake one wait")
    func raiseIsKept() async throws {
        let wakeup = Wakeup()
        wakeup.raise()
        wakeup.raise()
        let started = ContinuousClock.now
        await wakeup.wait(upTo: .seconds(30))
        #expect(ContinuousClock.now - started < .seconds(30))
        let (woken, waiter) = Self.waiting(on: wakeup)
        try await Task.sleep(for: .milliseconds(300))
        #expect(!woken.raised)
        waiter.cancel()
        await waiter.value
    }
}
