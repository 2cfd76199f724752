import Contracts
import Foundation
import Messaging
import Persistence
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import Campaigns

/// `make bench-campaigns` (release build): BENCH_CAMPAIGNS_RECIPIENTS subscribers (1,000,000)
/// imported from one CSV file through the API onto a list; a campaign to it launched (the
/// audience frozen), then sent for BENCH_CAMPAIGNS_SECONDS (120) to postfix's smtp-sink on
/// loopback (CAMPAIGNS_BENCH_SMTP) by the release campaigns binary run as a process of its own
/// (CAMPAIGNS_BINARY): import rows per second, launch seconds, sustained mails per second and
/// per hour, that process's peak memory. Prints figures; asserts none.
@Suite("campaigns benchmark", .enabled(if: ProcessInfo.processInfo.environment["BENCH_CAMPAIGNS"] != nil), .serialized)
struct CampaignsBenchmark {
    static let env = ProcessInfo.processInfo.environment

    /// A memory figure of a process, from /proc/<pid>/status, in MB.
    static func residentMB(_ field: String, of pid: Int32) -> Double {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix(field) } ?? ""
        return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
    }

    /// A template and a draft campaign to the list, sent as fast as the plan lets it.
    static func draft(to list: String, by marketer: Marketer) async throws -> String {
        let template = try await marketer.create(
            "/v1/campaigns/templates",
            [
                "name": "Bench", "subject": "Hello {{name}}",
                "html": "<p>Dear {{name}},</p><p>{{offer}}</p><p><a href=\"{{unsubscribeUrl}}\">Unsubscribe</a></p>", "variables": ["offer"],
            ])
        return try await marketer.create(
            "/v1/campaigns",
            [
                "name": "Bench", "templateId": template, "fromName": "Bench", "fromEmail": "news@bench.test", "listIds": [list],
                "data": ["offer": "Everything half price"], "ratePerSecond": 5000,
            ])
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    @Test("a million-subscriber campaign: launch, sustained mails per second to smtp-sink, peak memory")
    func millionMails() async throws {
        let recipients = Int(Self.env["BENCH_CAMPAIGNS_RECIPIENTS"] ?? "") ?? 1_000_000
        let window = Int(Self.env["BENCH_CAMPAIGNS_SECONDS"] ?? "") ?? 120
        let sink = Self.env["CAMPAIGNS_BENCH_SMTP"] ?? "smtp://127.0.0.1:26025"
        let issuer = try await TestIssuer.start()
        // The campaigns service as its own process (the release binary), so its memory is
        // its own; CAMPAIGNS_BINARY names it.
        let binary = Self.env["CAMPAIGNS_BINARY"] ?? ""
        let port = 28686
        let service = Process()
        service.executableURL = URL(fileURLWithPath: binary)
        // The bench's own environment passes through (MALLOC_ARENA_MAX and the like), the
        // service's settings on top.
        service.environment = ProcessInfo.processInfo.environment.merging([
            "PORT": String(port), "DATABASE_URL": TestEnvironment.databaseURL(role: "campaigns"), "KAFKA_BROKERS": TestEnvironment.kafkaBrokers,
            "JWKS_URL": issuer.jwksURL, "TOKEN_ISSUER": TestEnvironment.issuer, "TOKEN_AUDIENCE": TestEnvironment.audience, "LOG_LEVEL": "error",
            "CAMPAIGNS_SMTP_URL": sink, "CAMPAIGNS_SEND_CONCURRENCY": Self.env["CAMPAIGNS_SEND_CONCURRENCY"] ?? "16",
        ]) { $1 }
        try service.run()
        defer { service.terminate() }
        let baseURL = "http://127.0.0.1:\(port)"
        let ready = try await eventually(timeout: .seconds(30)) { (try? await TestHTTP.send("GET", baseURL + "/readyz").status) == 200 }
        #expect(ready, "the campaigns service did not get ready")
        let pid = service.processIdentifier
        // Enterprise plans, so the plan's rate and quotas do not bind: the big sender, and a
        // small one beside it (fairness: its thousand must not wait for the million).
        let (tenant, small) = (UUID.v7(), UUID.v7())
        let producer = try KafkaProducer(brokers: TestEnvironment.kafkaBrokers, clientID: "campaigns-bench", logger: TestEnvironment.logger)
        for id in [tenant, small] {
            let event = try EventEnvelope.make(
                TenantEvent(
                    tenantId: id, name: "bench", slug: "bench-\(id.uuidString.prefix(8).lowercased())", status: "active", plan: "enterprise",
                    version: 1, occurredAt: Date()), type: TenantEvent.created, on: Topics.authTenant, source: "/bench", tenantID: id)
            try await producer.send(OutgoingMessage(topic: event.topic, key: event.key, value: Array(event.data), headers: event.headers))
        }
        await producer.shutdown()
        try await Task.sleep(for: .seconds(5))
        let marketer = Marketer(url: baseURL, token: try await issuer.token(tenant: tenant, roles: ["owner"], expiresIn: 7200), tenant: tenant)
        let smallMarketer = Marketer(url: baseURL, token: try await issuer.token(tenant: small, roles: ["owner"], expiresIn: 7200), tenant: small)
        let list = try await marketer.create("/v1/campaigns/lists", ["name": "Everyone"])
        let smallList = try await smallMarketer.create("/v1/campaigns/lists", ["name": "Everyone"])
        // The sender addresses, proven (the verification email is not what is measured).
        try await withDatabase("campaigns") { database in
            for id in [tenant, small] {
                _ = try await database.withTenant(id) { connection in
                    try await connection.query(
                        "INSERT INTO campaigns.senders (id, tenant_id, email, verified_at) VALUES (\(UUID.v7()), \(id), 'news@bench.test', now())",
                        logger: database.logger)
                }
            }
        }
        var smallCSV = "email\n"
        for n in 0..<1000 { smallCSV += "small\(n)@bench.test\n" }
        let smallImport = try await TestHTTP.send(
            "POST", baseURL + "/v1/campaigns/imports?listIds=\(smallList)", bytes: Array(smallCSV.utf8), token: smallMarketer.token,
            headers: ["Content-Type": "text/csv"])
        #expect(smallImport.status == 202)
        var csv = Array("email,name,n,city\n".utf8)
        csv.reserveCapacity(recipients * 48)
        for n in 0..<recipients { csv += Array("reader\(n)@bench.test,Reader \(n),\(n),\"Berlin, DE\"\n".utf8) }
        let clock = ContinuousClock()
        var started = clock.now
        var peak = Self.residentMB("VmRSS:", of: pid)
        let upload = try await TestHTTP.send(
            "POST", baseURL + "/v1/campaigns/imports?listIds=\(list)", bytes: csv, token: marketer.token, headers: ["Content-Type": "text/csv"])
        let uploaded = Self.seconds(clock.now - started)
        let importID = try #require(upload.string("id"), "import refused: \(upload.status)")
        var imported = upload
        while imported.string("state") != "finished" && imported.string("state") != "failed" {
            try await Task.sleep(for: .seconds(1))
            imported = try await marketer.send("GET", "/v1/campaigns/imports/\(importID)")
            peak = max(peak, Self.residentMB("VmRSS:", of: pid))
        }
        let loaded = Self.seconds(clock.now - started)
        print("campaigns benchmark: imported")
        let campaign = try await Self.draft(to: list, by: marketer)
        let smallCampaign = try await Self.draft(to: smallList, by: smallMarketer)
        started = clock.now
        print("campaigns benchmark: launching")
        let launched = try await marketer.send("POST", "/v1/campaigns/\(campaign)/launch")
        let launch = Self.seconds(clock.now - started)
        print("campaigns benchmark: \(recipients) subscribers, \(ProcessInfo.processInfo.activeProcessorCount) cores, sink \(sink)")
        print(
            String(
                format: "  CSV import of %d rows (%.0f MB): %.1f s (upload %.1f s), %.0f rows/s; %d created, %d failed", recipients,
                Double(csv.count) / 1e6, loaded, uploaded, Double(recipients) / loaded, imported.json["created"] as? Int ?? -1,
                imported.json["failed"] as? Int ?? -1))
        print(String(format: "  launch (audience of %d frozen): %.1f s", launched.json["audience"] as? Int ?? -1, launch))

        // 20 s into the million, the small tenant launches its thousand.
        async let smallSend: Double = {
            try await Task.sleep(for: .seconds(20))
            let launched = clock.now
            _ = try await smallMarketer.send("POST", "/v1/campaigns/\(smallCampaign)/launch")
            while try await smallMarketer.send("GET", "/v1/campaigns/\(smallCampaign)").string("state") == "running" {
                try await Task.sleep(for: .milliseconds(250))
            }
            return Self.seconds(clock.now - launched)
        }()
        // The first 10 s ramp up; the rate is measured over the rest of the window.
        var samples: [(Double, Int)] = []
        let sending = clock.now
        while Self.seconds(clock.now - sending) < Double(window) {
            try await Task.sleep(for: .seconds(5))
            let status = try await marketer.send("GET", "/v1/campaigns/\(campaign)/status")
            let sent = status.json["sent"] as? Int ?? 0
            samples.append((Self.seconds(clock.now - sending), sent))
            peak = max(peak, Self.residentMB("VmRSS:", of: pid))
            if status.string("state") != "running" { break }
        }
        let smallSeconds = try await smallSend
        _ = try await marketer.send("POST", "/v1/campaigns/\(campaign)/cancel")
        let measured = samples.filter { $0.0 >= 10 }
        if let first = measured.first, let last = measured.last, last.0 > first.0 {
            let rate = Double(last.1 - first.1) / (last.0 - first.0)
            print(String(format: "  sustained: %.0f mails/s = %.0f mails/hour (%d sent in %.0f s)", rate, rate * 3600, last.1, last.0))
        }
        let smallStatus = try await smallMarketer.send("GET", "/v1/campaigns/\(smallCampaign)/status")
        print(
            String(
                format: "  fairness: another tenant's campaign to %d, launched 20 s into the big one, finished in %.1f s (%d sent)",
                smallStatus.json["audience"] as? Int ?? -1, smallSeconds, smallStatus.json["sent"] as? Int ?? -1))
        let failed = try await marketer.send("GET", "/v1/campaigns/\(campaign)/status")
        print("  failed \(failed.json["failed"] as? Int ?? -1), bounced \(failed.json["bounced"] as? Int ?? -1)")
        print(
            String(
                format:
                    "  resident memory of the campaigns process: peak sampled %.0f MB, high-water %.0f MB (now %.0f MB: %.0f MB anonymous, %.0f MB mapped files)",
                peak, Self.residentMB("VmHWM:", of: pid), Self.residentMB("VmRSS:", of: pid), Self.residentMB("RssAnon:", of: pid),
                Self.residentMB("RssFile:", of: pid)))
    }
}
