import Dispatch
import Foundation
import Logging
import Synchronization

/// The route table in use, replaced on SIGHUP. A request reads the table once, so
/// requests in flight finish with the table they started with; an invalid new file is
/// logged and the old table stays.
final class LiveRouteTable: Sendable {
    let path: String
    let logger: Logger
    private let current: Mutex<RouteTable>

    init(path: String, logger: Logger) throws {
        self.path = path
        self.logger = logger
        self.current = Mutex(try RouteTable.load(path: path))
    }

    var table: RouteTable { current.withLock { $0 } }

    /// Re-reads the file; answers whether the new table is in use.
    @discardableResult
    func reload() -> Bool {
        do {
            let table = try RouteTable.load(path: path)
            current.withLock { $0 = table }
            logger.info("route table reloaded", metadata: ["routes": "\(table.routes.count)"])
            return true
        } catch {
            logger.error("route table reload refused; keeping the current table", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Reloads on SIGHUP while this table is in use.
    func reloadOnHangup() {
        Hangup.shared.register(self)
    }
}

/// The process's one SIGHUP source; it reloads every live route table. (One source per
/// table would not do: releasing a signal source can take the signal away from the others.)
final class Hangup: Sendable {
    static let shared = Hangup()

    final class Weak: Sendable {
        weak let table: LiveRouteTable?
        init(_ table: LiveRouteTable) { self.table = table }
    }

    private let tables = Mutex<[Weak]>([])
    private let source: SourceBox

    final class SourceBox: @unchecked Sendable {
        // Created once and never mutated: kept only so the source stays alive.
        let source: any DispatchSourceSignal
        init(_ source: any DispatchSourceSignal) { self.source = source }
    }

    private init() {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        self.source = SourceBox(source)
        source.setEventHandler { [weak self] in self?.fire() }
        source.resume()
    }

    func register(_ table: LiveRouteTable) {
        tables.withLock { tables in
            tables.removeAll { $0.table == nil }
            tables.append(Weak(table))
        }
    }

    private func fire() {
        for table in tables.withLock({ $0.compactMap(\.table) }) { table.reload() }
    }
}
