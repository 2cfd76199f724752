import Foundation
import Jobs
import Persistence

struct ReminderArguments: Codable, Sendable {
    var taskId: UUID
    var remindAt: Date

    static func uniqueKey(_ task: UUID, _ remindAt: Date) -> String {
        "\(task.uuidString.lowercased()):\(Int64(remindAt.timeIntervalSince1970 * 1000))"
    }
}

struct PurgeArguments: Codable, Sendable {}

struct RecurArguments: Codable, Sendable {
    var taskId: UUID
}

/// The tasks service's background work: kinds, handlers, crons and queues.
struct TaskJobs: ServiceJobs {
    let database: Database

    static let reminder = JobKind<ReminderArguments>("tasks.reminder", queue: "reminders", maxAttempts: 25, timeout: .seconds(30))
    static let purgeBin = JobKind<PurgeArguments>("tasks.purge-bin", maxAttempts: 5, timeout: .seconds(300))
    static let importRows = JobKind<ImportJobArguments>("tasks.import", maxAttempts: 5, timeout: .seconds(1800))
    static let recur = JobKind<RecurArguments>("tasks.recur", maxAttempts: 25, timeout: .seconds(30))

    var registry: JobRegistry {
        var registry = JobRegistry()
        let reminders = ReminderStore(database: database)
        registry.register(Self.reminder) { arguments, context in try await reminders.send(arguments, context: context) }
        let bin = BinPurge(database: database)
        registry.register(Self.purgeBin) { _, context in try await bin.purge(context: context) }
        let series = SeriesStore(store: TaskStore(database: database))
        registry.register(Self.recur) { arguments, context in try await series.next(after: arguments.taskId, context: context) }
        let importer = TaskImporter(store: TaskStore(database: database))
        registry.register(Self.importRows) { arguments, context in try await importer.runStored(arguments.importId, tenant: context.tenantID) }
        return registry
    }

    func crons() throws -> [Cron] {
        // Daily, in the quiet hours of most of the world.
        [try Cron("tasks.purge-bin", "17 3 * * *", kind: Self.purgeBin, arguments: PurgeArguments())]
    }

    var configuration: JobWorker.Configuration {
        var configuration = JobWorker.Configuration(queues: ["default": 4, "reminders": 20])
        configuration.lease = .seconds(30)
        return configuration
    }
}
