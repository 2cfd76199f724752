import APIDocuments
import Contracts
import Foundation
import Hummingbird
import Jobs
import Logging
import Messaging
import Persistence
import ServiceKit
import ServiceLifecycle

/// The skeleton every service executable runs on: configuration, the PostgreSQL pool and
/// the schema's migrations, the HTTP router with the standard middleware and the token
/// verifier, the outbox relay, consumers (one dead-letter path), the job worker, metrics
/// and graceful shutdown. A service's `App.swift` declares its parts to it:
///
///     let host = try ServiceHost(TasksProgram.self, configuration: configuration)
///     host.routes(TaskRoutes(store: TaskStore(database: host.database)))
///     try host.consume(MembershipConsumer(store: ...))
///     try host.jobs(TaskJobs(database: host.database))
///     return host.application()
public final class ServiceHost {
    public let configuration: ServiceConfiguration
    public let logger: Logger
    public let database: Database
    public let producer: KafkaProducer
    public let readiness = Readiness()
    public let migrated = ReadyFlag()
    /// The HTTP routes: `/healthz`, `/readyz` and `/metrics` are there already.
    public let router: Router<ServiceRequestContext>
    /// Verifies access tokens against the configured JWKS.
    public let verifier: TokenVerifier
    /// Where this service's consumers dead-letter (through its outbox).
    public var deadLetters: DeadLetters { DeadLetters(database: database, service: configuration.name) }
    let migrations: [Migration]
    /// What the service has declared besides its routes.
    private var services: [any Service] = []
    /// Every Kafka consumer of this replica, whose lag `ConsumerLagReporter` reports.
    private var kafkaConsumers: [(group: String, consumer: KafkaConsumer)] = []
    private var beforeStart: [@Sendable () async throws -> Void] = []

    public convenience init<Program: ServiceProgram>(_ program: Program.Type, configuration: ServiceConfiguration) throws {
        try self.init(configuration: configuration, schema: Program.name, migrations: try Program.migrations())
        if APIDocument.services.contains(Program.name) { try router.addAPIDocument(Program.name, prefix: Program.publicPrefix) }
    }

    public init(configuration: ServiceConfiguration, schema: String, migrations: [Migration]) throws {
        Observability.bootstrapLogging(level: configuration.logLevel)
        var logger = Logger(label: configuration.name)
        logger[metadataKey: "service"] = .string(configuration.name)
        self.logger = logger
        self.configuration = configuration
        self.migrations = migrations
        self.database = try Database(url: configuration.databaseURL, schema: schema, logger: logger, tls: configuration.databaseTLS)
        self.producer = try KafkaProducer(brokers: configuration.kafkaBrokers, clientID: configuration.name, logger: logger)
        self.router = Router<ServiceRequestContext>.service(readiness: readiness)
        self.verifier = TokenVerifier(
            jwksURL: configuration.jwksURL, issuer: configuration.tokenIssuer, audience: configuration.tokenAudience, logger: logger)
        let database = self.database
        let producer = self.producer
        let migrated = self.migrated
        readiness.add("postgres") { await database.isReachable() }
        readiness.add("kafka") { await producer.isConnected() }
        readiness.add("migrations") { migrated.isSet }
        if let exporter = try Observability.bootstrapTracing(serviceName: configuration.name) { services.append(exporter) }
    }

    /// Loads `*.sql` from a service's bundled `Migrations` folder.
    public static func migrations(in bundle: Bundle) throws -> [Migration] {
        guard let folder = bundle.url(forResource: "Migrations", withExtension: nil) else {
            throw ConfigurationError(variable: "Migrations", problem: "resource folder is missing from the bundle")
        }
        return try Migration.load(from: folder)
    }

    // MARK: Declarations

    /// A group of routes.
    public func routes(_ group: some RouteGroup) {
        group.add(to: router, verifier: verifier)
    }

    /// A consumer taking one event at a time (retried, then dead-lettered on its own).
    public func consume(_ consumer: some EventHandling) throws {
        let kafka = try KafkaConsumer(
            brokers: configuration.kafkaBrokers, groupID: type(of: consumer).group, topics: consumer.topics.map(\.name), logger: logger)
        let migrated = self.migrated
        kafkaConsumers.append((type(of: consumer).group, kafka))
        // Events may arrive before this replica's migrations ran: they wait until then.
        services.append(
            EventConsumer(consumer: kafka, deadLetters: deadLetters, logger: logger) { event in
                try await migrated.wait()
                try await consumer.handle(event)
            })
    }

    /// A consumer taking whole batches; `members` group members in this replica (each holds
    /// its own partitions). Answers the Kafka consumers, for lag reporting.
    @discardableResult
    public func consume(_ consumer: some BatchHandling, members: Int = 1) throws -> [KafkaConsumer] {
        let migrated = self.migrated
        return try (0..<max(1, members)).map { _ in
            let kafka = try KafkaConsumer(
                brokers: configuration.kafkaBrokers, groupID: type(of: consumer).group, topics: consumer.topics.map(\.name), logger: logger,
                maxBatch: consumer.maxBatch)
            kafkaConsumers.append((type(of: consumer).group, kafka))
            services.append(
                EventConsumer(
                    consumer: kafka, deadLetters: deadLetters, logger: logger,
                    batchHandler: { events in
                        try await migrated.wait()
                        try await consumer.handle(events)
                    }))
            return kafka
        }
    }

    /// The service's jobs: its worker runs once this replica's migrations have.
    public func jobs(_ jobs: some ServiceJobs) throws {
        let worker = JobWorker(
            database: database, registry: jobs.registry, crons: try jobs.crons(), configuration: jobs.configuration, logger: logger)
        run(worker, afterMigrations: true)
    }

    /// Any other background service; with `afterMigrations`, started once the schema is ready.
    public func run(_ service: any Service, afterMigrations: Bool = false) {
        services.append(afterMigrations ? AfterMigrations(flag: migrated, service: service) : service)
    }

    /// Work before the server accepts requests, after the migrations.
    public func beforeStart(_ work: @escaping @Sendable () async throws -> Void) {
        beforeStart.append(work)
    }

    // MARK: Running

    /// Serves until SIGTERM, then drains (readiness fails, answers close their connections)
    /// for the configured time before the server stops accepting and the rest shuts down.
    public func run() async throws {
        try await ServiceRunner.run(application(), readiness: readiness, drain: configuration.shutdownDrain)
    }

    /// What runs before the server accepts requests (migrations, topics).
    public var preparation: Preparation {
        Preparation(configuration: configuration, database: database, migrations: migrations, migrated: migrated, logger: logger)
    }

    /// The lifecycle services every service runs: the pool, the producer (dead letters),
    /// and the outbox relay with a producer of its own.
    var platformServices: [any Service] {
        [
            PostgresClientService(database: database),
            KafkaProducerService(producer: producer),
            OutboxRelay(
                database: database, logger: logger, schemaReady: migrated,
                ensureTopics: { [configuration] in try await TopicAdmin.ensure(Topics.all, brokers: configuration.kafkaBrokers, timeout: .seconds(3))
                }
            ) { [configuration, logger] in
                // The relay retries on its own: a delivery not confirmed within 5 s is
                // tried again (by a new producer if this one failed for good).
                try KafkaProducer(
                    brokers: configuration.kafkaBrokers, clientID: "\(configuration.name)-outbox", logger: logger,
                    settings: ["message.timeout.ms": "5000", "enable.idempotence": "false", "max.in.flight.requests.per.connection": "1"])
            },
            AfterMigrations(flag: migrated, service: InboxPurge(database: database, days: 30, logger: logger)),
        ]
    }

    /// The HTTP application with everything declared, prepared before the server accepts
    /// requests. `onServerRunning` reports the bound port (tests use port 0).
    public func application(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        var app = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: configuration.name),
            services: platformServices + services + (kafkaConsumers.isEmpty ? [] : [ConsumerLagReporter(consumers: kafkaConsumers)]),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        let beforeStart = self.beforeStart
        let preparation = self.preparation
        app.beforeServerStarts {
            try await preparation.run()
            for work in beforeStart { try await work() }
        }
        return app
    }
}

/// What runs before the server accepts requests: the schema's migrations (or waiting for
/// `migrate` to have applied them), then the registry's topics (a topic that exists
/// already, as declared by KafkaTopic resources in production, is left alone).
public struct Preparation: Sendable {
    let configuration: ServiceConfiguration
    let database: Database
    let migrations: [Migration]
    let migrated: ReadyFlag
    let logger: Logger

    public func run() async throws {
        if configuration.migrateOnStart {
            try await Migrator(database: database).migrate(migrations)
        } else {
            try await waitForMigrations()
        }
        migrated.set()
        do {
            try await TopicAdmin.ensure(Topics.all, brokers: configuration.kafkaBrokers)
        } catch {
            logger.warning("could not create topics; the broker may be down", metadata: ["error": "\(error)"])
        }
    }

    /// Until `migrate` (a Job of the deployment) has applied every migration this build
    /// knows: a replica of a newer version must not serve an older schema.
    func waitForMigrations() async throws {
        var logged = false
        while true {
            let pending = try await Migrator(database: database).pending(migrations)
            if pending.isEmpty { return }
            if !logged {
                logger.warning("waiting for migrations to be applied (run `\(configuration.name) migrate`)", metadata: ["pending": "\(pending)"])
                logged = true
            }
            try await Task.sleep(for: .seconds(2))
        }
    }
}

/// PostgresClient as a lifecycle service.
struct PostgresClientService: Service {
    let database: Database
    func run() async throws {
        await cancelWhenGracefulShutdown { await database.client.run() }
    }
}

/// `service`, started once this replica's migrations have run (a job worker must not
/// claim from tables that do not exist yet).
struct AfterMigrations: Service {
    let flag: ReadyFlag
    let service: any Service

    func run() async throws {
        // A shutdown before the schema was ready ends the wait (and the service) at once.
        do {
            try await cancelWhenGracefulShutdown { try await flag.wait() }
        } catch is CancellationError {
            return
        }
        try await service.run()
    }
}

/// Every hour, the inbox rows older than `days` go (`Database.purgeInbox`).
struct InboxPurge: Service {
    let database: Database
    let days: Int
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            do {
                let purged = try await database.purgeInbox(olderThan: days)
                if purged > 0 { logger.info("purged inbox rows", metadata: ["count": "\(purged)", "days": "\(days)"]) }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("inbox purge failed; trying again in an hour", metadata: ["error": "\(error)"])
            }
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(3600)) } } catch { return }
        }
    }
}
