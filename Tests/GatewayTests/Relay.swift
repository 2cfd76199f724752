import Foundation

/// Signals between a test and an upstream in the same process: "the first chunk has
/// arrived". A proxy that buffered whole bodies would keep the signal from ever firing.
actor Relay {
    static let shared = Relay()
    private var fired: Set<String> = []
    private var waiting: [String: [CheckedContinuation<Bool, Never>]] = [:]

    private var counts: [String: Int] = [:]

    func fire(_ key: String) {
        fired.insert(key)
        counts[key, default: 0] += 1
        for waiter in waiting.removeValue(forKey: key) ?? [] { waiter.resume(returning: true) }
    }

    /// True once `key` fires; false if it has not after `seconds`.
    func wait(_ key: String, seconds: Double) async -> Bool {
        if fired.contains(key) { return true }
        Task {
            try? await Task.sleep(for: .seconds(seconds))
            self.expire(key)
        }
        return await withCheckedContinuation { waiting[key, default: []].append($0) }
    }

    /// How often `key` has fired.
    func count(_ key: String) -> Int { counts[key] ?? 0 }

    private func expire(_ key: String) {
        for waiter in waiting.removeValue(forKey: key) ?? [] { waiter.resume(returning: false) }
    }
}
