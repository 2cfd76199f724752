import Synchronization

/// A thread-safe list that escaping closures (handlers, consumers) can append to.
public final class Recorder<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])

    public init() {}

    public func append(_ item: Element) { items.withLock { $0.append(item) } }
    public func append(contentsOf more: [Element]) { items.withLock { $0 += more } }
    public var all: [Element] { items.withLock { $0 } }
    public var count: Int { items.withLock { $0.count } }
}
