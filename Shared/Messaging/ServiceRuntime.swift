import Contracts
import Foundation
import Hummingbird
import Logging
import Persistence
import ServiceKit
import ServiceLifecycle

/// What every service runs besides its routes: the PostgreSQL pool, migrations, the
/// Kafka producer, the outbox relay, readiness checks, and its consumers. A service's
/// `App.swift` builds one of these, adds routes and consumers, and asks for the app.
public final class ServiceRuntime: Sendable {
    public let configuration: ServiceConfiguration
    public let logger: Logger
    public let database: Database
    public let producer: KafkaProducer
    public let readiness = Readiness()
    public let migrated = ReadyFlag()
    let migrations: [Migration]

    public init(configuration: ServiceConfiguration, schema: String, migrations: [Migration]) throws {
        Observability.bootstrapLogging(level: configuration.logLevel)
        var logger = Logger(label: configuration.name)
        logger[metadataKey: "service"] = .string(configuration.name)
        self.logger = logger
        self.configuration = configuration
        self.migrations = migrations
        self.database = try Database(url: configuration.databaseURL, schema: schema, logger: logger, tls: configuration.databaseTLS)
        self.producer = try KafkaProducer(brokers: configuration.kafkaBrokers, clientID: configuration.name, logger: logger)
        let database = self.database
        let producer = self.producer
        let migrated = self.migrated
        readiness.add("postgres") { await database.isReachable() }
        readiness.add("kafka") { await producer.isConnected() }
        readiness.add("migrations") { migrated.isSet }
    }

    /// Loads `*.sql` from a service's bundled `Migrations` folder.
    public static func migrations(in bundle: Bundle) throws -> [Migration] {
        guard let folder = bundle.url(forResource: "Migrations", withExtension: nil) else {
            throw ConfigurationError(variable: "Migrations", problem: "resource folder is missing from the bundle")
        }
        return try Migration.load(from: folder)
    }

    /// Applies the schema's migrations and makes sure the registry's topics exist (a topic
    /// that exists already, as declared by KafkaTopic resources in production, is left alone).
    public func prepare() async throws {
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

    /// A verifier for access tokens, fetching keys from the configured JWKS URL.
    public func tokenVerifier() -> TokenVerifier {
        TokenVerifier(jwksURL: configuration.jwksURL, issuer: configuration.tokenIssuer, audience: configuration.tokenAudience, logger: logger)
    }

    /// A consumer-group consumer whose failures go to `dlq.<service>`.
    public func consumer(group: String, topics: [Topic], handler: @escaping EventConsumer.Handler) throws -> EventConsumer {
        let consumer = try KafkaConsumer(brokers: configuration.kafkaBrokers, groupID: group, topics: topics.map(\.name), logger: logger)
        let migrated = self.migrated
        // Events may arrive before this replica's migrations ran: hold them until then.
        return EventConsumer(consumer: consumer, deadLetterProducer: producer, service: configuration.name, logger: logger) { event in
            while !migrated.isSet { try await Task.sleep(for: .milliseconds(50)) }
            try await handler(event)
        }
    }

    /// A consumer-group consumer handing whole batches to `handler` (see EventConsumer);
    /// messages that are not CloudEvents go to `dlq.<service>`.
    public func batchConsumer(
        group: String, topics: [Topic], maxBatch: Int = 500, handler: @escaping EventConsumer.BatchHandler
    ) throws -> EventConsumer {
        let consumer = try KafkaConsumer(
            brokers: configuration.kafkaBrokers, groupID: group, topics: topics.map(\.name), logger: logger, maxBatch: maxBatch)
        let migrated = self.migrated
        return EventConsumer(
            consumer: consumer, deadLetterProducer: producer, service: configuration.name, logger: logger,
            batchHandler: { events in
                while !migrated.isSet { try await Task.sleep(for: .milliseconds(50)) }
                try await handler(events)
            })
    }

    /// The lifecycle services every service runs: the pool, the producer (dead letters),
    /// and the outbox relay with a producer of its own.
    public var services: [any Service] {
        [
            PostgresClientService(database: database),
            KafkaProducerService(producer: producer),
            OutboxRelay(database: database, logger: logger, schemaReady: migrated) { [configuration, logger] in
                try KafkaProducer(brokers: configuration.kafkaBrokers, clientID: "\(configuration.name)-outbox", logger: logger)
            },
        ]
    }

    /// The HTTP application with the runtime's services plus `extra`, prepared before
    /// the server accepts requests. `onServerRunning` reports the bound port (tests use port 0).
    public func application<Context: RequestContext>(
        router: Router<Context>, extra: [any Service] = [], onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> Application<RouterResponder<Context>> where Context.Source == ApplicationRequestContextSource {
        var app = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: configuration.name),
            services: services + extra,
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        app.beforeServerStarts { [self] in try await prepare() }
        return app
    }
}

extension ServiceRuntime {
    /// A service whose features have not arrived yet: it migrates its schema, relays its
    /// outbox and answers `/healthz`, `/readyz` and `/metrics`.
    public static func operationalOnly(
        _ configuration: ServiceConfiguration, schema: String, bundle: Bundle,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> Application<RouterResponder<ServiceRequestContext>> {
        let runtime = try ServiceRuntime(configuration: configuration, schema: schema, migrations: try migrations(in: bundle))
        return runtime.application(router: .service(readiness: runtime.readiness), onServerRunning: onServerRunning)
    }
}

/// PostgresClient as a lifecycle service.
struct PostgresClientService: Service {
    let database: Database
    func run() async throws {
        await cancelWhenGracefulShutdown { await database.client.run() }
    }
}

extension ServiceRuntime {
    /// `service`, started once this replica's migrations have run (a job worker must not
    /// claim from tables that do not exist yet).
    public func afterMigrations(_ service: any Service) -> any Service {
        AfterMigrations(flag: migrated, service: service)
    }
}

struct AfterMigrations: Service {
    let flag: ReadyFlag
    let service: any Service

    func run() async throws {
        while !flag.isSet {
            if Task.isShuttingDownGracefully { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        try await service.run()
    }
}
