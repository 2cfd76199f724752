import Foundation
import Jobs
import Mail
import NIOCore
import Outbound
import ServiceKit

/// What the notifications service needs beyond every service's configuration.
struct NotificationsConfiguration: Sendable {
    var service: ServiceConfiguration
    var smtp: SMTPConfiguration
    /// The app's base URL for links in messages (`appUrl` in templates).
    var appURL: String
    /// Where webhooks and push messages may be sent (SSRF protection).
    var webhooks = DestinationPolicy()
    /// The VAPID `sub` claim: how push services reach the operator.
    var pushContact = "mailto:ops@platform.local"
    var streamPoll: Duration = .milliseconds(500)
    var emailRetries = EmailRetries()
    /// The delay after each failed webhook attempt, nil when it was the last; tests shorten it.
    var webhookSchedule: @Sendable (Int) -> TimeInterval? = { WebhookSchedule.delay(afterAttempt: $0) }
    /// How long an endpoint has to answer a delivery; tests shorten it.
    var webhookTimeout: TimeAmount = .seconds(15)

    /// `SMTP_URL` (smtp://127.0.0.1:2525), `SMTP_USERNAME`, `SMTP_PASSWORD`, `SMTP_REQUIRE_TLS`
    /// (true unless the URL is on loopback), `SMTP_CA_FILE` (PEM; the system's roots when unset),
    /// `SMTP_MAX_CONNECTIONS` (16),
    /// `SMTP_FROM`, `NOTIFICATIONS_APP_URL`;
    /// `WEBHOOK_REQUIRE_HTTPS` (true), `WEBHOOK_ALLOW_LOOPBACK` (false), `WEBHOOK_ALLOW_PRIVATE` (false),
    /// `PUSH_VAPID_SUBJECT` (mailto:ops@platform.local).
    static func fromEnvironment(_ env: Environment = Environment()) throws -> Self {
        let service = try ServiceConfiguration.fromEnvironment(name: "notifications", defaultPort: 8085)
        let url = try env.url("SMTP_URL", default: "smtp://127.0.0.1:2525")
        let loopback = ["127.0.0.1", "localhost", "::1"].contains(url.host ?? "")
        let requireTLS = try env.bool("SMTP_REQUIRE_TLS", default: !loopback)
        return Self(
            service: service,
            smtp: SMTPConfiguration(
                url: url.absoluteString, username: env.optionalString("SMTP_USERNAME"), password: env.optionalString("SMTP_PASSWORD"),
                requireTLS: requireTLS, from: try env.string("SMTP_FROM", default: "Platform <no-reply@platform.local>"),
                trustRootsFile: env.optionalString("SMTP_CA_FILE"), maxSessions: try env.int("SMTP_MAX_CONNECTIONS", default: 16, range: 1...256)),
            appURL: try env.url("NOTIFICATIONS_APP_URL", default: "http://localhost:3000").absoluteString,
            webhooks: DestinationPolicy(
                requireHTTPS: try env.bool("WEBHOOK_REQUIRE_HTTPS", default: true),
                allowLoopback: try env.bool("WEBHOOK_ALLOW_LOOPBACK", default: false),
                allowPrivate: try env.bool("WEBHOOK_ALLOW_PRIVATE", default: false)),
            pushContact: try env.string("PUSH_VAPID_SUBJECT", default: "mailto:ops@platform.local"))
    }
}

/// How a failed send is retried; tests shorten it.
struct EmailRetries: Sendable {
    var maxAttempts = 10
    var delay: @Sendable (Int) -> Duration = Backoff.delay(afterAttempt:)
}
