import Crypto
import Foundation
import Mail
import ServiceKit

/// What the campaigns service needs beyond every service's configuration.
struct CampaignsConfiguration: Sendable {
    var service: ServiceConfiguration
    /// Campaign mail goes out through this server (the sender's own pool of connections).
    var smtp: SMTPConfiguration
    /// Where the public links in emails point (the gateway as recipients reach it).
    var publicURL: String
    /// Signs those links; every replica must share it.
    var linkSecret: SymmetricKey
    /// Sends of one campaign in flight at once on a replica.
    var sendConcurrency = 8
    /// Seals the tenants' DKIM private keys at rest.
    var keyEncryptionKey: SymmetricKey

    /// `CAMPAIGNS_SMTP_URL` (smtp://127.0.0.1:2525), `CAMPAIGNS_SMTP_USERNAME`,
    /// `CAMPAIGNS_SMTP_PASSWORD`, `CAMPAIGNS_SMTP_REQUIRE_TLS` (false on loopback),
    /// `CAMPAIGNS_SMTP_CA_FILE` (PEM; the system's roots when unset), `CAMPAIGNS_SMTP_MAX_CONNECTIONS` (16),
    /// `CAMPAIGNS_PUBLIC_URL` (http://localhost:8080), `CAMPAIGNS_LINK_SECRET` (32 bytes,
    /// base64; required off loopback), `CAMPAIGNS_SEND_CONCURRENCY` (8),
    /// `CAMPAIGNS_KEY_ENCRYPTION_KEY` (32 bytes, base64; required off loopback).
    static func fromEnvironment(_ env: Environment = Environment()) throws -> Self {
        try settings(service: try ServiceConfiguration.fromEnvironment(name: "campaigns", defaultPort: 8086), env)
    }

    /// The campaign settings from `env`, around a service configuration made elsewhere.
    static func settings(service: ServiceConfiguration, _ env: Environment) throws -> Self {
        let url = try env.url("CAMPAIGNS_SMTP_URL", default: "smtp://127.0.0.1:2525")
        let loopback = ["127.0.0.1", "localhost", "::1"].contains(url.host ?? "")
        // A development secret only where nothing leaves the machine.
        let secret = try env.base64Bytes(
            "CAMPAIGNS_LINK_SECRET", count: 32, default: loopback ? Data(repeating: 7, count: 32).base64EncodedString() : nil)
        let keyEncryptionKey = try env.base64Bytes(
            "CAMPAIGNS_KEY_ENCRYPTION_KEY", count: 32, default: loopback ? Data(repeating: 9, count: 32).base64EncodedString() : nil)
        return Self(
            service: service,
            smtp: SMTPConfiguration(
                url: url.absoluteString, username: env.optionalString("CAMPAIGNS_SMTP_USERNAME"),
                password: env.optionalString("CAMPAIGNS_SMTP_PASSWORD"), requireTLS: try env.bool("CAMPAIGNS_SMTP_REQUIRE_TLS", default: !loopback),
                from: "bounces@platform.local", trustRootsFile: env.optionalString("CAMPAIGNS_SMTP_CA_FILE"),
                maxSessions: try env.int("CAMPAIGNS_SMTP_MAX_CONNECTIONS", default: 16, range: 1...256)),
            publicURL: try env.url("CAMPAIGNS_PUBLIC_URL", default: "http://localhost:8080").absoluteString,
            linkSecret: SymmetricKey(data: secret),
            sendConcurrency: try env.int("CAMPAIGNS_SEND_CONCURRENCY", default: 8, range: 1...64),
            keyEncryptionKey: SymmetricKey(data: keyEncryptionKey))
    }
}
