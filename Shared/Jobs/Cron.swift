import Foundation
import PostgresNIO

/// A job enqueued on a cron schedule. Each slot fires once across all replicas (the slot
/// is recorded with its job in one transaction); a replica that starts inside a slot no
/// one fired yet fires it.
public struct Cron: Sendable {
    public let name: String
    public let schedule: CronSchedule
    let enqueue: @Sendable (JobQueue, Date, PostgresConnection) async throws -> Int64?

    public init<Arguments>(_ name: String, _ expression: String, timeZone: TimeZone = .gmt, kind: JobKind<Arguments>, arguments: Arguments) throws {
        self.name = name
        self.schedule = try CronSchedule(expression, timeZone: timeZone)
        self.enqueue = { queue, slot, connection in
            try await queue.enqueue(
                kind, arguments, tenant: nil, options: .init(uniqueKey: "cron:\(name):\(Int(slot.timeIntervalSince1970))"), on: connection)
        }
    }
}
