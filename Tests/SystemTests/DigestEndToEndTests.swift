import Foundation
import Hummingbird
import Mail
import NIOCore
import Outbound
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import Experience
@testable import Notifications

/// The content pipeline's path to a reader, across services: auth (sign-up), experience
/// (sources, fetching, digests) and notifications (the email), over the test broker, with a
/// feed server on loopback and the digest's time driven by the test.
@Suite("daily digest end to end")
struct DigestEndToEndTests {
    /// An RSS feed of two articles published an hour ago.
    static func feedServer() async throws -> String {
        try await TestServer.start { onRunning in
            let router = Router()
            router.get("news.xml") { _, _ -> Response in
                let hourAgo = Date().addingTimeInterval(-3600)
                let formatter = DateFormatter()
                formatter.locale = Locale(identifier: "en_US_POSIX")
                formatter.timeZone = .gmt
                formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
                let date = formatter.string(from: hourAgo)
                let body = """
                    <rss version="2.0"><channel><title>Harbour News</title>
                    <item><title>Tidal station opens</title><link>/tidal</link><category>Energy</category><pubDate>\(date)</pubDate>
                      <description>The station feeds forty thousand homes from the tide.</description></item>
                    <item><title>Ferry timetable changes</title><link>/ferry</link><category>Transport</category><pubDate>\(date)</pubDate>
                      <description>Winter sailings start on Monday.</description></item>
                    </channel></rss>
                    """
                return Response(status: .ok, headers: [.contentType: "application/rss+xml"], body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
            }
            return Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { await onRunning($0.localAddress?.port ?? 0) }, logger: TestEnvironment.logger)
        }.baseURL
    }

    /// The claims of an access token (its payload, unverified: the test issued it).
    static func claims(_ token: String) throws -> [String: Any] {
        var payload = String(token.split(separator: ".")[1]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while payload.count % 4 != 0 { payload += "=" }
        return try JSONSerialization.jsonObject(with: try #require(Data(base64Encoded: payload))) as? [String: Any] ?? [:]
    }

    @Test("sign up, follow a feed, choose a time: at that time the digest email with the feed's articles lands in the Maildir")
    func digestEmail() async throws {
        // These servers share the test database with the experience and notifications suites,
        // so their job workers take those suites' jobs too: they are configured alike
        // (ExperienceTests/ExperienceServer, NotificationsTests/NotificationsServer).
        for (name, value) in ["FEEDS_ALLOW_LOOPBACK": "true", "FEEDS_TIMEOUT_SECONDS": "2", "FEEDS_HOST_GAP_MS": "0", "FEEDS_MAX_BYTES": "262144"] {
            setenv(name, value, 1)
        }
        let stack = try await Stack.shared.services()
        let experience = try await TestServer.start {
            try experienceHost(TestEnvironment.configuration("experience", jwksURL: stack.jwks)).application(onServerRunning: $0)
        }.baseURL
        _ = try await TestServer.start {
            try notificationsHost(
                NotificationsConfiguration(
                    service: TestEnvironment.configuration("notifications", jwksURL: stack.jwks),
                    smtp: SMTPConfiguration(url: TestEnvironment.smtpURL, requireTLS: false, from: "Platform <no-reply@platform.test>"),
                    appURL: "https://app.test", webhooks: DestinationPolicy(requireHTTPS: false, allowLoopback: true), streamPoll: .milliseconds(100),
                    emailRetries: EmailRetries(maxAttempts: 3, delay: { _ in .milliseconds(200) }), webhookSchedule: { $0 < 4 ? 0.2 : nil },
                    webhookTimeout: .seconds(1))
            ).application(onServerRunning: $0)
        }
        let feeds = try await Self.feedServer()
        let email = "reader-\(UUID().uuidString.prefix(8).lowercased())@example.com"
        let signup = try await TestHTTP.send(
            "POST", "\(stack.gateway)/v1/auth/signup",
            json: ["email": email, "password": "a long enough password", "name": "Rae Reader", "tenantName": "Harbour Readers"])
        #expect(signup.status == 201)
        let token = try #require(signup.string("accessToken"))
        let claims = try Self.claims(token)
        let user = try #require(claims["sub"] as? String)
        let tenant = try #require(UUID(uuidString: claims["tid"] as? String ?? ""))

        let source = try await TestHTTP.send("POST", "\(experience)/v1/experience/sources", json: ["url": "\(feeds)/news.xml"], token: token)
        #expect(source.status == 201, "\(source.json)")
        let sourceID = source.json["id"] as? String ?? ""
        // The articles reach the catalogue through the intake's stages, as jobs.
        let taken = try await eventually {
            try await TestHTTP.send("GET", "\(experience)/v1/experience/sources/\(sourceID)", token: token).json["itemsNew"] as? Int == 2
        }
        #expect(taken)
        let zone = lateMorningZone()
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: zone))
        let at = calendar.dateComponents([.hour, .minute], from: Date().addingTimeInterval(180))
        let preferences = try await TestHTTP.send(
            "PUT", "\(experience)/v1/experience/digest/preferences",
            json: ["enabled": true, "localTime": String(format: "%02d:%02d", at.hour ?? 0, at.minute ?? 0), "timeZone": zone], token: token)
        #expect(preferences.status == 200, "\(preferences.json)")
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let raw = preferences.json["nextSendAt"] as? String ?? ""
        let scheduled = try #require(formatter.date(from: raw) ?? ISO8601DateFormatter().date(from: raw))

        // Notifications learns the reader's address from auth.membership.v1; a digest before
        // that would have nowhere to go.
        let known = try await withDatabase("notifications") { database in
            try await eventually(timeout: .seconds(60)) {
                let user = UUID(uuidString: user) ?? UUID()
                return try await database.withTenant(tenant) { connection in
                    try await connection.query(
                        "SELECT 1 FROM notifications.members WHERE tenant_id = \(tenant) AND user_id = \(user)", logger: database.logger
                    ).collect().count == 1
                }
            }
        }
        #expect(known)
        // The clock the test controls: the dispatcher runs as if a minute past the chosen time.
        try await withDatabase("experience") { database in
            let claim = try await DigestStore(database: database).claim(user: user, tenant: tenant, now: scheduled.addingTimeInterval(60))
            guard case .claimed = claim else {
                Issue.record("expected the digest to be claimed, got \(claim)")
                return
            }
        }
        // The sign-up's verification email arrives too; the digest is the other one.
        #expect(
            try await eventually(timeout: .seconds(60)) { Mailbox.messages(to: email).contains { $0.subject.hasPrefix("Your digest for ") } })
        let mail = try #require(Mailbox.messages(to: email).first { $0.subject.hasPrefix("Your digest for ") })
        #expect(mail.subject.hasPrefix("Your digest for "))
        #expect(mail.subject.hasSuffix(": 2 articles"))
        let text = mail.parts["text/plain"] ?? ""
        #expect(text.contains("- Tidal station opens (Harbour News)"))
        #expect(text.contains("\(feeds)/tidal"))
        #expect(text.contains("https://app.test/digests/"))
        #expect(mail.parts["text/html"]?.contains("Read it in your browser") == true)
    }
}
