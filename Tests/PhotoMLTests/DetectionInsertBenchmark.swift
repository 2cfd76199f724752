import Foundation
import NIOCore
import Persistence
import PostgresNIO
import TestSupport
import Testing

@testable import PhotoML

/// `make bench-photoml`, third part: how a photo's detections are best written under row
/// level security. `COPY … FROM STDIN` into `photoml.detections` itself is refused here
/// ("COPY FROM not supported with row-level security"), and the service roles may not make
/// temporary tables; so the contenders are the array `unnest` INSERT the service uses and
/// COPY into a staging table without RLS, then INSERT … SELECT (which RLS checks) and
/// emptying the staging table, all in one transaction. In turns, medians printed; nothing
/// asserted.
@Suite("detection insert benchmark", .enabled(if: ProcessInfo.processInfo.environment["BENCH_PHOTOML"] != nil), .serialized)
struct DetectionInsertBenchmark {
    static func detections(_ count: Int) -> [Detection] {
        (0..<count).map { index in
            let x = Double(index % 80) * 50
            let y = Double(index / 80) * 50
            return Detection(box: Box(x1: x, y1: y, x2: x + 40, y2: y + 40), score: 0.9, classID: 0, tile: index % 30)
        }
    }

    static func unnest(_ detections: [Detection], photo: UUID, session: UUID, tenant: UUID, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO photoml.detections (tenant_id, photo_id, session_id, found_on, x1, y1, x2, y2, score, class_id, tile)
            SELECT \(tenant), \(photo), \(session), current_date, x1, y1, x2, y2, score, class_id, tile
            FROM unnest(\(detections.map { Float($0.box.x1) })::real[], \(detections.map { Float($0.box.y1) })::real[],
                        \(detections.map { Float($0.box.x2) })::real[], \(detections.map { Float($0.box.y2) })::real[],
                        \(detections.map { Float($0.score) })::real[], \(detections.map { Int16($0.classID) })::smallint[],
                        \(detections.map { $0.tile ?? -1 })::int[]) AS d(x1, y1, x2, y2, score, class_id, tile)
            """, logger: TestEnvironment.logger)
    }

    static func copyThroughTemporary(
        _ detections: [Detection], photo: UUID, session: UUID, tenant: UUID, on connection: PostgresConnection
    ) async throws {
        // copyFrom quotes the name whole: the schema comes from the search path.
        try await connection.query("SET LOCAL search_path = photoml", logger: TestEnvironment.logger)
        try await connection.copyFrom(
            table: "bench_incoming", columns: ["x1", "y1", "x2", "y2", "score", "class_id", "tile"], logger: TestEnvironment.logger
        ) { writer in
            var text = ""
            text.reserveCapacity(detections.count * 40)
            for d in detections {
                text +=
                    "\(Float(d.box.x1))\t\(Float(d.box.y1))\t\(Float(d.box.x2))\t\(Float(d.box.y2))\t\(Float(d.score))\t\(d.classID)\t\(d.tile ?? -1)\n"
            }
            try await writer.write(ByteBuffer(string: text))
        }
        try await connection.query(
            """
            INSERT INTO photoml.detections (tenant_id, photo_id, session_id, found_on, x1, y1, x2, y2, score, class_id, tile)
            SELECT \(tenant), \(photo), \(session), current_date, x1, y1, x2, y2, score, class_id, tile FROM photoml.bench_incoming
            """, logger: TestEnvironment.logger)
        try await connection.query("DELETE FROM photoml.bench_incoming", logger: TestEnvironment.logger)
    }

    @Test("unnest INSERT against COPY into a staging table then INSERT … SELECT, under RLS")
    func insertWays() async throws {
        _ = try await PhotoMLServer.shared.get()  // migrated, partitions made
        try await withDatabase("photoml") { database in
            try await database.client.query(
                """
                CREATE UNLOGGED TABLE IF NOT EXISTS photoml.bench_incoming
                  (x1 real, y1 real, x2 real, y2 real, score real, class_id smallint, tile int)
                """, logger: database.logger)
            let tenant = UUID.v7()
            print("photoml detection inserts under row level security (one transaction per photo, medians of 15 turns):")
            for size in [600, 5_000, 20_000] {
                let rows = Self.detections(size)
                var unnestTimes: [Double] = []
                var copyTimes: [Double] = []
                for turn in 0..<16 {
                    for useCopy in turn % 2 == 0 ? [false, true] : [true, false] {
                        let clock = ContinuousClock()
                        let started = clock.now
                        try await database.withTenant(tenant) { connection in
                            if useCopy {
                                try await Self.copyThroughTemporary(rows, photo: .v7(), session: .v7(), tenant: tenant, on: connection)
                            } else {
                                try await Self.unnest(rows, photo: .v7(), session: .v7(), tenant: tenant, on: connection)
                            }
                        }
                        // The first turn warms caches and plans; it is not counted.
                        if turn > 0 {
                            if useCopy {
                                copyTimes.append(PhotoJobs.seconds(clock.now - started))
                            } else {
                                unnestTimes.append(PhotoJobs.seconds(clock.now - started))
                            }
                        }
                    }
                }
                func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] * 1000 }
                print(
                    String(
                        format: "  %6d rows: unnest INSERT %.1f ms, COPY to a staging table + INSERT … SELECT %.1f ms", size, median(unnestTimes),
                        median(copyTimes)))
            }
            _ = try await database.withTenant(tenant) { connection in
                try await connection.query("DELETE FROM photoml.detections WHERE tenant_id = \(tenant)", logger: database.logger)
            }
            try await database.client.query("DROP TABLE photoml.bench_incoming", logger: database.logger)
        }
    }
}
