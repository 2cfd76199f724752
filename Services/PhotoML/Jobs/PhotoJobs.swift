import Foundation
import Jobs
import Persistence

struct ProcessArguments: Codable, Sendable {
    var photoId: UUID
}

struct PartitionArguments: Codable, Sendable {}

/// The photoml service's background work: each uploaded photo is a job (decode, tiles,
/// inference, merge), and the last photo of a session to finish computes its result
/// (estimation, warnings). A daily cron keeps the detection partitions ahead and drops
/// those past the retention.
struct PhotoJobs: ServiceJobs {
    let processing: ProcessingStore
    let uploads: UploadStore
    let objects: any ObjectStore
    let detector: Detector
    let card: ModelCard
    var retentionDays = 90
    /// The queue this replica takes photos from (see PhotoMLConfiguration.photoQueue).
    var photoQueue = process.queue

    static let process = JobKind<ProcessArguments>("photoml.process-photo", queue: "photos", maxAttempts: 3, timeout: .seconds(600))
    static let partitions = JobKind<PartitionArguments>("photoml.detection-partitions", maxAttempts: 5, timeout: .seconds(120))
    static let expireUpload = JobKind<ExpireUploadArguments>("photoml.expire-upload", maxAttempts: 5, timeout: .seconds(60))

    var registry: JobRegistry {
        var registry = JobRegistry()
        registry.register(Self.process) { arguments, context in try await process(arguments.photoId, context: context) }
        let processing = self.processing
        let retention = retentionDays
        registry.register(Self.partitions) { _, context in
            let dropped = try await processing.maintainPartitions(retentionDays: retention)
            if dropped > 0 { context.logger.info("detection partitions past the retention dropped", metadata: ["count": "\(dropped)"]) }
        }
        let (uploads, objects) = (self.uploads, self.objects)
        registry.register(Self.expireUpload) { arguments, context in
            // Never completed: whatever bytes were put for it go too.
            if let key = try await uploads.expire(arguments.uploadId, tenant: context.tenantID) { try await objects.delete(key) }
        }
        return registry
    }

    func crons() throws -> [Cron] {
        [try Cron("photoml.detection-partitions", "7 2 * * *", kind: Self.partitions, arguments: PartitionArguments())]
    }

    var configuration: JobWorker.Configuration {
        // Inference takes both cores: one photo at a time per replica.
        var configuration = JobWorker.Configuration(queues: ["default": 2, photoQueue: 1])
        configuration.lease = .seconds(60)
        return configuration
    }

    /// A photo that cannot be decoded or whose bytes are gone fails at once; anything else
    /// is tried again, and fails the session after the last attempt.
    func process(_ photoID: UUID, context: JobContext) async throws {
        guard let work = try await processing.claim(photoID, tenant: context.tenantID) else { return }
        if let original = work.reuse {
            // The same bytes of the same location were processed already: no second inference.
            let (detections, warnings, thumbnailKey) = try await processing.detections(of: original, tenant: context.tenantID)
            let last = try await processing.finish(
                work, detections: detections, warnings: warnings, stages: ["reused": 0], thumbnailKey: thumbnailKey, tenant: context.tenantID)
            if last { try await completeSession(work.sessionID, context: context, clock: ContinuousClock()) }
            return
        }
        do {
            let clock = ContinuousClock()
            let started = clock.now
            let bytes = try await objects.get(work.storageKey)
            let detector = self.detector
            let (photo, found, thumbnail) = try await Self.offThePool {
                let photo = try PhotoDecoder.decode(bytes, header: work.header)
                return (photo, try detector.detect(photo), try Thumbnail.jpeg(photo))
            }
            let thumbnailKey = work.storageKey + ".thumb.jpg"
            try await objects.put(thumbnailKey, thumbnail)
            var stages = found.seconds
            let total = clock.now - started
            stages["decode"] = max(0, Self.seconds(total) - found.seconds.values.reduce(0, +))
            let ownWarnings = SessionWarning.collect(
                merged: [], tileDetections: found.raw, tiles: found.tiles, slicing: detector.slicing, photoWidth: photo.width,
                photoHeight: photo.height, calibration: nil, surfaceSquareMetres: nil, estimate: nil, bookQuantity: nil
            ).filter { $0.code == .imageSmallerThanTile || $0.code == .manySeamCuts }
            let last = try await processing.finish(
                work, detections: found.merged, warnings: ownWarnings, stages: stages, thumbnailKey: thumbnailKey, tenant: context.tenantID)
            guard last else { return }
            try await completeSession(work.sessionID, context: context, clock: clock)
        } catch let error as PhotoDecoder.Failure {
            try await processing.fail(photoID, error: error.description, tenant: context.tenantID)
        } catch ObjectStoreError.notFound {
            try await processing.fail(photoID, error: "the photo's bytes are gone from storage", tenant: context.tenantID)
        } catch {
            if context.attempt >= context.maxAttempts, !(error is CancellationError) {
                try await processing.fail(photoID, error: String(describing: error), tenant: context.tenantID)
                return
            }
            throw error
        }
    }

    /// The session's result, from all its photos, once the last is done.
    func completeSession(_ sessionID: UUID, context: JobContext, clock: ContinuousClock) async throws {
        let estimating = clock.now
        let facts = try await processing.facts(sessionID, tenant: context.tenantID)
        var result = SessionResult.combine(
            facts.parts, classNames: card.classes, surfaceSquareMetres: facts.surface, calibration: facts.calibration,
            bookQuantity: facts.bookQuantity, meanScore: facts.meanScore)
        result.stages["estimation"] = Self.seconds(clock.now - estimating)
        if let product = facts.productID, let estimate = result.estimation.best?.count {
            let book = facts.bookQuantity ?? 0
            result.proposal = .init(productId: product, bookQuantity: book, estimate: estimate, delta: estimate - book)
        }
        try await processing.complete(sessionID, result: result, tenant: context.tenantID)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Decoding and inference take seconds of CPU: on a thread of their own, not one of the
    /// few that run every task of the process.
    static func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }
}
