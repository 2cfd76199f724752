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
    private let hangup = SignalSourceHolder()

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

    /// Reloads on SIGHUP for the life of the process.
    func reloadOnHangup() {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler { [weak self] in self?.reload() }
        source.resume()
        hangup.source = source
    }
}

/// Keeps the SIGHUP source alive; set once at start-up, before any concurrency.
final class SignalSourceHolder: @unchecked Sendable {
    var source: (any DispatchSourceSignal)?
}
