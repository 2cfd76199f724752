import Foundation
import Mail
import Persistence
import PostgresNIO
import ServiceKit

/// SQL for the tenant's DKIM keys, whose private parts are kept sealed.
struct DKIMStore: Sendable {
    let database: Database
    let sealer: KeySealer

    /// How a sealed private key starts in its column; keys stored before sealing have no
    /// prefix and are read as they are (a rotation seals them).
    static let sealedPrefix = "sealed:"

    static func seal(_ stored: String, with sealer: KeySealer) throws -> String {
        sealedPrefix + Data(try sealer.seal(Array(stored.utf8))).base64EncodedString()
    }

    static func unseal(_ column: String, with sealer: KeySealer) throws -> String {
        guard column.hasPrefix(sealedPrefix) else { return column }
        guard let sealed = Data(base64Encoded: String(column.dropFirst(sealedPrefix.count))) else { throw KeySealer.SealError.unsealable }
        return String(decoding: try sealer.open(Array(sealed)), as: UTF8.self)
    }

    /// A key as the admin sees it: never the private part.
    struct Published: Codable, Sendable, Equatable {
        var domain: String
        var selector: String
        var algorithm: String
        /// Where the TXT record goes.
        var dnsName: String
        var dnsRecord: String
        var createdAt: Date
    }

    static func published(_ rows: PostgresRowSequence) async throws -> [Published] {
        var found: [Published] = []
        for try await (domain, selector, algorithm, record, created) in rows.decode((String, String, String, String, Date).self) {
            found.append(
                Published(
                    domain: domain, selector: selector, algorithm: algorithm, dnsName: "\(selector)._domainkey.\(domain)", dnsRecord: record,
                    createdAt: created))
        }
        return found
    }

    /// A new key for the domain (replacing any before it: a rotation); answers whether the
    /// domain had none.
    func put(domain: String, selector: String, algorithm: DKIMSigner.Algorithm, tenant: UUID) async throws -> (Published, Bool) {
        let key = try DKIMSigner.Key.generate(algorithm)
        let sealed = try Self.seal(key.stored, with: sealer)
        return try await database.withTenant(tenant) { connection in
            var existed = false
            for try await _ in try await connection.query("SELECT 1 FROM campaigns.dkim_keys WHERE domain = \(domain)", logger: database.logger) {
                existed = true
            }
            let rows = try await connection.query(
                """
                INSERT INTO campaigns.dkim_keys (tenant_id, domain, selector, algorithm, private_key, dns_record)
                VALUES (\(tenant), \(domain), \(selector), \(algorithm.rawValue), \(sealed), \(key.dnsRecord))
                ON CONFLICT (tenant_id, domain) DO UPDATE SET selector = EXCLUDED.selector, algorithm = EXCLUDED.algorithm,
                  private_key = EXCLUDED.private_key, dns_record = EXCLUDED.dns_record, created_at = now()
                RETURNING domain, selector, algorithm, dns_record, created_at
                """, logger: database.logger)
            guard let published = try await Self.published(rows).first else { throw CampaignsError.notFound }
            return (published, !existed)
        }
    }

    func list(tenant: UUID) async throws -> [Published] {
        try await database.withTenant(tenant) { connection in
            try await Self.published(
                try await connection.query(
                    "SELECT domain, selector, algorithm, dns_record, created_at FROM campaigns.dkim_keys ORDER BY domain", logger: database.logger))
        }
    }

    func delete(domain: String, tenant: UUID) async throws {
        try await database.withTenant(tenant) { connection in
            for try await _ in try await connection.query(
                "DELETE FROM campaigns.dkim_keys WHERE domain = \(domain) RETURNING 1", logger: database.logger)
            {
                return
            }
            throw CampaignsError.notFound
        }
    }

    /// The signer for mail from `domain`, if the tenant has a key for it.
    static func signer(domain: String, sealer: KeySealer, on connection: PostgresConnection, logger: Logger) async throws -> DKIMSigner? {
        for try await (selector, algorithm, stored) in try await connection.query(
            "SELECT selector, algorithm, private_key FROM campaigns.dkim_keys WHERE domain = \(domain)", logger: logger
        ).decode((String, String, String).self) {
            guard let algorithm = DKIMSigner.Algorithm(rawValue: algorithm) else { return nil }
            return DKIMSigner(
                domain: domain, selector: selector, key: try DKIMSigner.Key(stored: try unseal(stored, with: sealer), algorithm: algorithm))
        }
        return nil
    }
}
