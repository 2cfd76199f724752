import CRdKafka
import Foundation

/// librdkafka handles and configuration objects are C pointers. The types that own them
/// are `@unchecked Sendable` because librdkafka documents its handle as thread-safe for
/// produce, poll, commit and metadata calls, and each owner destroys its handle once,
/// after the threads that use it have stopped.
public struct KafkaError: Error, CustomStringConvertible {
    public let code: Int32
    public let message: String
    public var description: String { "kafka: \(message)" }

    init(_ err: rd_kafka_resp_err_t) {
        self.code = err.rawValue
        self.message = String(cString: rd_kafka_err2str(err))
    }

    init(message: String) {
        self.code = -1
        self.message = message
    }

    /// The broker (or librdkafka before it) will never accept this message however often
    /// it is sent: too large, or not a valid record. Everything else may pass later.
    public var isPermanent: Bool {
        [
            RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE, RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE,
            RD_KAFKA_RESP_ERR_INVALID_RECORD,
        ]
        .contains { $0.rawValue == code }
    }
}

enum KafkaConfiguration {
    /// Builds an `rd_kafka_conf_t`; the caller hands it to `rd_kafka_new`, which takes ownership.
    /// `KAFKA_DEBUG` (librdkafka's debug contexts, e.g. `cgrp,fetch`) turns on its
    /// debug log for every handle, to stderr.
    static func make(_ settings: [String: String]) throws -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else { throw KafkaError(message: "rd_kafka_conf_new failed") }
        var errstr = [CChar](repeating: 0, count: 512)
        var settings = settings
        if let debug = ProcessInfo.processInfo.environment["KAFKA_DEBUG"], !debug.isEmpty { settings["debug"] = debug }
        for (key, value) in settings.sorted(by: { $0.key < $1.key }) {
            if rd_kafka_conf_set(conf, key, value, &errstr, errstr.count) != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                throw KafkaError(message: "setting \(key): \(cString(errstr))")
            }
        }
        return conf
    }

    static func newHandle(_ type: rd_kafka_type_t, _ conf: OpaquePointer) throws -> OpaquePointer {
        var errstr = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(type, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(message: "rd_kafka_new: \(cString(errstr))")
        }
        return handle
    }
}

/// A message to produce.
public struct OutgoingMessage: Sendable {
    public var topic: String
    public var key: String
    public var value: [UInt8]
    public var headers: [(String, String)]

    public init(topic: String, key: String, value: [UInt8], headers: [(String, String)]) {
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
    }
}

/// A consumed message, copied out of librdkafka's memory.
public struct ConsumedMessage: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: String
    public var value: [UInt8]
    public var headers: [String: String]
}

/// A NUL-terminated C buffer as a Swift string.
func cString(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Runs blocking librdkafka work (flush, close, joins) on a thread of its own, so it never
/// occupies one of the few Swift concurrency threads.
func onDedicatedThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: work()) }.start()
    }
}
