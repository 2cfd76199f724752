import Foundation
import Logging
import Metrics
import Persistence
import PostgresNIO
import ServiceLifecycle
import Synchronization
import Tracing

/// Runs a service's jobs: claims ready jobs per queue (fairly across tenants, up to the
/// queue's concurrency), holds their leases with heartbeats, records outcomes (successes
/// in batches), retries with backoff, rescues jobs of dead workers, promotes scheduled
/// jobs, fires cron slots, prunes old successes. On graceful shutdown it stops claiming,
/// lets running jobs finish for `shutdownGrace`, then gives the rest back.
public final class JobWorker: Service, Sendable {
    public struct Configuration: Sendable {
        /// Queue name → how many of its jobs run at once on this worker.
        public var queues: [String: Int] = ["default": 10]
        public var lease: Duration = .seconds(30)
        public var pollInterval: Duration = .seconds(1)
        public var shutdownGrace: Duration = .seconds(20)
        public var retention: Duration = .seconds(86400)
        public var workerID = "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"

        public init(queues: [String: Int] = ["default": 10]) {
            self.queues = queues
        }
    }

    struct State {
        var running: [Int64: String] = [:]
        var completed: [Int64] = []
        var lastTenant: [String: UUID] = [:]
        var paused: Set<String> = []
        var stopping = false
        /// When the soonest job a queue gave back for pacing is due again: the queue looks
        /// then, not at the next poll (which would cap a paced kind at a job a poll).
        var pacedUntil: [String: ContinuousClock.Instant] = [:]
    }

    let store: JobStore
    let queue: JobQueue
    let registry: JobRegistry
    let crons: [Cron]
    let configuration: Configuration
    let logger: Logger
    private let state = Mutex(State())
    /// Per queue: jobs may be ready (inserted, promoted, unpaused, stopping).
    private let wakeups: [String: Wakeup]
    /// Per queue: a running job finished, so a slot is free.
    private let freedSlots: [String: Wakeup]
    private let completions = Wakeup()
    private let pacer = Pacer()

    public init(database: Database, registry: JobRegistry, crons: [Cron] = [], configuration: Configuration = Configuration(), logger: Logger) {
        self.store = JobStore(database: database)
        self.queue = JobQueue(schema: database.schema)
        self.registry = registry
        self.crons = crons
        self.configuration = configuration
        self.logger = logger
        self.wakeups = configuration.queues.mapValues { _ in Wakeup() }
        self.freedSlots = configuration.queues.mapValues { _ in Wakeup() }
    }

    public var workerID: String { configuration.workerID }

    public func run() async throws {
        // Paused queues are known before the first claim.
        if let paused = try? await store.pausedQueues() { state.withLock { $0.paused = paused } }
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for (name, concurrency) in configuration.queues {
                    group.addTask { await self.work(queue: name, concurrency: concurrency) }
                }
                group.addTask { await self.flushCompletions() }
                group.addTask { await self.maintain() }
                group.addTask { await self.listenForInserts() }
                // The queues end first (after the grace period); then the helpers stop.
                var queuesLeft = configuration.queues.count
                for await _ in group {
                    queuesLeft -= 1
                    if queuesLeft == 0 { break }
                }
                completions.raise()
                group.cancelAll()
            }
            // What finished during shutdown is recorded before the process goes.
            await flushCompletedOnce()
        } onGracefulShutdown: {
            self.stop()
        }
    }

    /// Stops claiming; running jobs get `shutdownGrace` to finish.
    public func stop() {
        state.withLock { $0.stopping = true }
        for wakeup in Array(wakeups.values) + Array(freedSlots.values) { wakeup.raise() }
    }

    private var stopping: Bool { state.withLock { $0.stopping } }

    /// How long a busy queue may wait for a quarter of its slots to free up before it claims.
    static let gathering = Duration.milliseconds(20)

    // MARK: Claiming and running

    private func work(queue name: String, concurrency: Int) async {
        let wakeup = wakeups[name] ?? Wakeup()
        let freed = freedSlots[name] ?? Wakeup()
        var gatheringUntil: ContinuousClock.Instant?
        // Discarding: a worker runs for the process's life, and an ordinary group keeps every
        // finished child until someone awaits it (gigabytes after a few hundred thousand jobs).
        await withDiscardingTaskGroup { group in
            while !stopping && !Task.isCancelled {
                let (free, paused, after) = state.withLock { state in
                    (concurrency - state.running.values.filter { $0 == name }.count, state.paused.contains(name), state.lastTenant[name])
                }
                if paused {
                    await wakeup.wait(upTo: configuration.pollInterval)
                    continue
                }
                if free <= 0 {
                    await freed.wait(upTo: configuration.pollInterval)
                    continue
                }
                // A busy queue claims for several free slots at once, not once per finished
                // job: it waits a little for a quarter of its slots. Jobs claimed together
                // start together, so kinds that gather their statements (emails, webhooks)
                // read and write them in one transaction.
                if free < concurrency / 4 {
                    let until = gatheringUntil ?? ContinuousClock.now + Self.gathering
                    gatheringUntil = until
                    if ContinuousClock.now < until {
                        await freed.wait(upTo: until - ContinuousClock.now)
                        continue
                    }
                }
                gatheringUntil = nil
                let jobs: [ClaimedJob]
                do {
                    jobs = try await store.claim(queue: name, limit: free, after: after, worker: workerID, lease: configuration.lease)
                } catch {
                    logger.warning("claiming jobs failed", metadata: ["queue": "\(name)", "error": "\(String(reflecting: error))"])
                    await wakeup.wait(upTo: configuration.pollInterval)
                    continue
                }
                if jobs.isEmpty {
                    // Drained: only new jobs, a paced job coming due, or the poll make claiming
                    // worth it again.
                    let due = state.withLock { $0.pacedUntil.removeValue(forKey: name) }
                    let limit = due.map { min(configuration.pollInterval, max(.milliseconds(1), $0 - ContinuousClock.now)) }
                    await wakeup.wait(upTo: limit ?? configuration.pollInterval)
                    continue
                }
                state.withLock { state in
                    for job in jobs { state.running[job.id] = name }
                    state.lastTenant[name] = jobs.last?.tenantID
                }
                let latency = Timer(label: "jobs_claim_latency", dimensions: [("queue", name)])
                for job in jobs {
                    latency.recordSeconds(job.claimLatency)
                    group.addTask {
                        await self.execute(job)
                        self.state.withLock { _ = $0.running.removeValue(forKey: job.id) }
                        freed.raise()
                    }
                }
            }
            // Shutdown: wait for running jobs up to the grace period, then cancel them.
            let deadline = ContinuousClock.now + configuration.shutdownGrace
            while ContinuousClock.now < deadline, state.withLock({ state in state.running.values.contains(name) }) {
                await freed.wait(upTo: .milliseconds(100))
            }
            group.cancelAll()
        }
    }

    private func execute(_ job: ClaimedJob) async {
        var logger = self.logger
        logger[metadataKey: "job_id"] = "\(job.id)"
        logger[metadataKey: "job_kind"] = "\(job.kind)"
        let context = JobContext(
            id: job.id, tenantID: job.tenantID, kind: job.kind, attempt: job.attempt, maxAttempts: job.maxAttempts, logger: logger)
        do {
            guard let entry = registry[job.kind] else { throw JobFailure.unknownKind(job.kind) }
            if let rateFor = entry.tenantRate, let rate = rateFor(job.tenantID), let wait = pacer.admit("\(job.kind)/\(job.tenantID)", rate: rate) {
                try await store.release([job.id], worker: workerID, after: wait)
                let due = ContinuousClock.now + wait + .milliseconds(5)  // the database's clock, a little behind ours
                state.withLock { state in
                    guard let queue = state.running[job.id] else { return }
                    state.pacedUntil[queue] = min(state.pacedUntil[queue] ?? due, due)
                }
                Counter(label: "jobs_paced_total", dimensions: [("kind", job.kind)]).increment()
                return
            }
            if let rate = entry.ratePerSecond {
                let wait = pacer.delay(job.kind, rate: rate)
                if wait > .zero { try await Task.sleep(for: wait) }
            }
            let timeout = Duration.seconds(job.timeoutSeconds)
            // A span per job (a trace of its own): what it writes to the outbox carries that trace on.
            try await withSpan("job \(job.kind)", ofKind: .internal) { span in
                span.attributes["job.id"] = Int(job.id)
                span.attributes["job.attempt"] = job.attempt
                try await Self.withTimeout(timeout) { try await entry.run(Data(job.arguments.utf8), context) }
            }
            state.withLock { $0.completed.append(job.id) }
            completions.raise()
            Counter(label: "jobs_finished_total", dimensions: [("kind", job.kind), ("outcome", "succeeded")]).increment()
        } catch {
            if Task.isCancelled && stopping {
                // Shutdown cut it short: give it back without counting the attempt (in a task
                // of its own: this one is cancelled, and so would be its query).
                let store = self.store
                let worker = workerID
                await Task { try? await store.release([job.id], worker: worker) }.value
                return
            }
            let message = JobErrorMessage.stored(error, job: job.id, kind: job.kind, logger: logger)
            logger.warning("job failed", metadata: ["job_id": "\(job.id)", "attempt": "\(job.attempt)", "error": "\(message)"])
            do {
                let discarded = try await store.fail(
                    job.id, worker: workerID, error: message, retryIn: (registry[job.kind]?.retryDelay ?? Backoff.delay(afterAttempt:))(job.attempt))
                Counter(label: "jobs_finished_total", dimensions: [("kind", job.kind), ("outcome", discarded ? "discarded" : "failed")]).increment()
            } catch {
                // The lease runs out and the rescuer retries it.
                logger.error("could not record a job failure", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
    }

    static func withTimeout(_ limit: Duration, _ body: @escaping @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await body()
                return true
            }
            group.addTask {
                try await Task.sleep(for: limit)
                return false
            }
            let finished = try await group.next() ?? false
            group.cancelAll()
            if !finished { throw JobFailure.timedOut(limit) }
        }
    }

    // MARK: Completions in batches

    private func flushCompletions() async {
        while !Task.isCancelled {
            await completions.wait(upTo: .milliseconds(200))
            // A short pause gathers the completions of jobs finishing together.
            try? await Task.sleep(for: .milliseconds(2))
            await flushCompletedOnce()
        }
    }

    private func flushCompletedOnce() async {
        let ids = state.withLock { state in
            defer { state.completed.removeAll(keepingCapacity: true) }
            return state.completed
        }
        guard !ids.isEmpty else { return }
        do {
            try await store.complete(ids, worker: workerID)
        } catch {
            // Not recorded: put them back for the next flush (their leases are still held).
            state.withLock { $0.completed.append(contentsOf: ids) }
            logger.warning("recording completed jobs failed", metadata: ["error": "\(String(reflecting: error))"])
            try? await Task.sleep(for: .milliseconds(500))
        }
    }

    // MARK: Housekeeping

    private func maintain() async {
        var tick = 0
        var lastSlots: [String: Date] = [:]
        var gauged: Set<[String]> = []
        while !Task.isCancelled {
            do {
                if try await store.promoteDue() > 0 { wakeAll() }
                if try await store.rescueExpired() > 0 { wakeAll() }
                let paused = try await store.pausedQueues()
                let wasPaused = state.withLock { state in
                    defer { state.paused = paused }
                    return state.paused
                }
                if wasPaused != paused { wakeAll() }
                let heartbeatEvery = max(1, Int(JobStore.seconds(configuration.lease) / 3 / JobStore.seconds(configuration.pollInterval)))
                if tick % heartbeatEvery == 0 {
                    let held = state.withLock { Array($0.running.keys) + $0.completed }
                    try await store.heartbeat(held, worker: workerID, lease: configuration.lease)
                }
                if !stopping { try await fireCrons(&lastSlots) }
                if tick % 60 == 0 { try await store.prune(olderThan: configuration.retention) }
                if tick % 10 == 0 {
                    var now: Set<[String]> = []
                    for (queue, kind, state, count) in try await store.counts() {
                        Gauge(label: "jobs", dimensions: [("queue", queue), ("kind", kind), ("state", state)]).record(count)
                        now.insert([queue, kind, state])
                    }
                    // A combination that has no jobs any more reads 0, not its last count.
                    for gone in gauged.subtracting(now) where gone.count == 3 {
                        Gauge(label: "jobs", dimensions: [("queue", gone[0]), ("kind", gone[1]), ("state", gone[2])]).record(0)
                    }
                    gauged = now
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("job housekeeping failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            tick += 1
            try? await Task.sleep(for: configuration.pollInterval)
        }
    }

    private func wakeAll() {
        for wakeup in wakeups.values { wakeup.raise() }
    }

    /// Fires the latest slot of each schedule that is due and not yet fired by anyone.
    func fireCrons(_ lastSlots: inout [String: Date]) async throws {
        let now = Date()
        for cron in crons {
            let last: Date
            if let known = lastSlots[cron.name] {
                last = known
            } else {
                last = try await store.lastCronSlot(cron.name) ?? now.addingTimeInterval(-60)
            }
            guard var slot = cron.schedule.next(after: last), slot <= now else {
                lastSlots[cron.name] = last
                continue
            }
            // Slots missed while no replica ran are not all replayed: only the latest.
            while let following = cron.schedule.next(after: slot), following <= now { slot = following }
            let fired = try await store.database.withTransaction { connection -> Bool in
                guard try await store.recordCronSlot(cron.name, slot, on: connection) else { return false }
                let job = try await cron.enqueue(queue, slot, connection)
                try await store.attachCronJob(cron.name, slot, job: job, on: connection)
                return true
            }
            if fired { logger.info("cron slot fired", metadata: ["cron": "\(cron.name)", "slot": "\(slot)"]) }
            lastSlots[cron.name] = slot
        }
    }

    /// The trigger names the queues that got ready jobs; an empty payload wakes them all.
    private func listenForInserts() async {
        await store.database.listen(on: "\(store.schema)_jobs") { queue in
            if let wakeup = self.wakeups[queue] { wakeup.raise() } else { self.wakeAll() }
        }
    }
}

/// Spaces the starts of a job kind to its rate on this worker.
final class Pacer: Sendable {
    private let next = Mutex<[String: ContinuousClock.Instant]>([:])

    /// Nil when one more job under `key` may start now (a burst of one second's worth is
    /// allowed), which takes its slot; else how long until it may.
    func admit(_ key: String, rate: Double) -> Duration? {
        let now = ContinuousClock.now
        let interval = Duration.nanoseconds(Int64(1e9 / rate))
        let burst = interval * max(0, rate - 1)
        return next.withLock { next in
            if next.count > 10_000 { next = next.filter { $0.value > now } }
            let slot = max(next[key] ?? now, now)
            guard slot <= now + burst else { return slot - now - burst }
            next[key] = slot + interval
            return nil
        }
    }

    /// How long to wait before starting one more job of `kind`.
    func delay(_ kind: String, rate: Double) -> Duration {
        let now = ContinuousClock.now
        let interval = Duration.nanoseconds(Int64(1e9 / rate))
        return next.withLock { next in
            let slot = max(next[kind] ?? now, now)
            next[kind] = slot + interval
            return slot - now
        }
    }
}
