import ArgumentParser
import AsyncHTTPClient
import Foundation
import Hummingbird
import Jobs
import Messaging
import Persistence
import ServiceHost
import ServiceKit

/// Builds the photoml service: the nursery inventory that photo counts feed, photo uploads
/// into sessions, their sliced detection and estimation as jobs, and the admin views.
func photoMLHost(_ configuration: PhotoMLConfiguration) throws -> ServiceHost {
    let host = try ServiceHost(PhotoMLProgram.self, configuration: configuration.service)
    let database = host.database
    host.routes(LocationRoutes(store: LocationStore(database: database)))
    host.routes(ProductRoutes(store: ProductStore(database: database)))
    host.routes(StockRoutes(store: StockStore(database: database)))
    let objects: any ObjectStore =
        if let s3 = configuration.s3 {
            S3ObjectStore(
                endpoint: s3.endpoint, bucket: s3.bucket, signer: SigV4(accessKey: s3.accessKey, secretKey: s3.secretKey, region: s3.region),
                client: .shared, timeout: .seconds(Int64(s3.timeoutSeconds)))
        } else {
            try FileObjectStore(root: URL(fileURLWithPath: configuration.storageDirectory))
        }
    let sessions = SessionStore(database: database, photoQueue: configuration.photoQueue)
    host.routes(PhotoRoutes(store: sessions, stock: StockStore(database: database), objects: objects, limits: PhotoLimits(configuration)))
    // A model whose bytes do not match its card stops the start.
    guard let modelPath = configuration.modelPath ?? ModelCard.bundledModelPath else { throw ModelCard.Missing() }
    let card = try ModelCard.load(modelPath: modelPath)
    host.routes(ModelAdminRoutes(models: [card]))
    host.routes(SessionAdminRoutes(store: sessions))
    let uploads = UploadStore(database: database, sessions: sessions)
    host.routes(UploadRoutes(uploads: uploads, objects: objects, limits: PhotoLimits(configuration)))
    var detector = Detector(runtime: try ModelRuntime(modelPath: modelPath), decoder: try card.decoder())
    detector.fullImagePass = configuration.fullImagePass
    try host.jobs(
        PhotoJobs(
            processing: ProcessingStore(database: database), uploads: uploads, objects: objects, detector: detector, card: card,
            photoQueue: configuration.photoQueue))
    return host
}

enum PhotoMLProgram: ServiceProgram {
    static let name = "photoml"
    static func migrations() throws -> [Migration] { JobTables.migrations(schema: name) + (try ServiceHost.migrations(in: .module)) }
    static func configuration() throws -> ServiceConfiguration { try PhotoMLConfiguration.fromEnvironment().service }
    static func serve(migrate: Bool) async throws {
        var configuration = try PhotoMLConfiguration.fromEnvironment()
        configuration.service.migrateOnStart = migrate
        try await photoMLHost(configuration).run()
    }
}

@main
struct PhotoMLCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "photoml", abstract: "Photo upload and sliced detection.",
        subcommands: [ServeCommand<PhotoMLProgram>.self, MigrateCommand<PhotoMLProgram>.self, DeadLetterCommand<PhotoMLProgram>.self],
        defaultSubcommand: ServeCommand<PhotoMLProgram>.self)
}
