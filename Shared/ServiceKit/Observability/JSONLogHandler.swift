import Contracts
import Foundation
import Logging
import OTel
import Synchronization

/// One JSON object per line on stdout: what log collectors in Kubernetes expect.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    /// The current span's `trace_id` and `span_id`, when a request or job is traced.
    public var metadataProvider: Logger.MetadataProvider?
    let label: String

    public init(label: String, level: Logger.Level, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.logLevel = level
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var object: [String: Any] = [
            "ts": RFC3339.string(from: Date()),
            "level": event.level.rawValue,
            "logger": label,
            "msg": event.message.description,
        ]
        let merged = (metadataProvider?.get() ?? [:]).merging(metadata) { $1 }.merging(event.metadata ?? [:]) { $1 }
        for (key, value) in merged { object[key] = Self.plain(value) }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        var line = data
        line.append(0x0A)
        FileHandle.standardOutput.write(line)
    }

    static func plain(_ value: Logger.MetadataValue) -> Any {
        switch value {
        case .string(let s): s
        case .stringConvertible(let s): s.description
        case .array(let a): a.map(plain)
        case .dictionary(let d): d.mapValues(plain)
        }
    }
}

/// swift-log and swift-metrics may be bootstrapped once per process; tests start many
/// services in one process, so bootstrapping goes through here.
public enum Observability {
    private static let logging = Mutex(false)

    public static func bootstrapLogging(level: String) {
        logging.withLock { done in
            guard !done else { return }
            done = true
            let level = Logger.Level(rawValue: level) ?? .info
            // Every line logged inside a traced request or job carries its trace_id and span_id.
            LoggingSystem.bootstrap(
                { label, provider in JSONLogHandler(label: label, level: level, metadataProvider: provider) },
                metadataProvider: OTel.makeLoggingMetadataProvider())
        }
    }
}
