import Metrics
import Synchronization

/// Metric handles by their dimensions, made once. Making a handle through the metrics
/// factory validates and formats its labels under the registry's lock, which showed up
/// on the proxy's profile when done per request.
final class MetricCache<Key: Hashable & Sendable, Handle: Sendable>: Sendable {
    private let handles = Mutex<[Key: Handle]>([:])

    func handle(_ key: Key, make: () -> Handle) -> Handle {
        if let known = handles.withLock({ $0[key] }) { return known }
        let made = make()
        return handles.withLock { handles in
            if let known = handles[key] { return known }
            handles[key] = made
            return made
        }
    }
}
