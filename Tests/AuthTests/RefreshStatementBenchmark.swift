import Foundation
import Persistence
import PostgresNIO
import TestSupport
import Testing

@testable import Auth

/// A refresh's database work two ways, in turns in one run (this machine's speed drifts):
/// the one statement auth runs now (migration 0003, one round trip) and the transaction it
/// replaced (BEGIN, set_config, the same spend-and-insert, COMMIT: four round trips).
/// Runs only under `make bench-auth`; prints figures, asserts none.
@Suite("refresh statement benchmark", .enabled(if: ProcessInfo.processInfo.environment["BENCH"] != nil), .serialized)
struct RefreshStatementBenchmark {
    static let turns = 3
    static let workers = 16

    @Test("rotations per second: one statement against the former transaction")
    func statementAgainstTransaction() async throws {
        try await withDatabase("auth") { database in
            let sessions = SessionStore(
                database: database, successorKey: Array(repeating: 0x52, count: 32), idleLifetime: 3600, absoluteLifetime: 86400, graceSeconds: 5)
            var chains: [TenantToken] = []
            for _ in 0..<Self.workers {
                let owner = try await Session.owner()
                let user = try #require(UUID(uuidString: owner.userID))
                let tenant = try #require(UUID(uuidString: owner.tenantID))
                chains.append(try await sessions.start(userID: user, tenantID: tenant))
            }
            let tokens = Chains(chains)
            var figures: [String: [Double]] = [:]
            for turn in 1...Self.turns {
                for way in ["one statement", "transaction"] {
                    let (rate, failed) = try await AuthBenchmark.measure(workers: Self.workers) { worker in
                        let token = tokens.token(worker)
                        let rotated =
                            way == "one statement"
                            ? try await sessions.refresh(token) : try await Self.formerRefresh(token, sessions: sessions, database: database)
                        guard case .rotated(let successor, _) = rotated else { return false }
                        tokens.set(worker, successor)
                        return true
                    }
                    figures[way, default: []].append(rate)
                    print(String(format: "BENCH refresh store, turn %d, %@: %.0f/s, %d failed", turn, way, rate, failed))
                }
            }
            for (way, rates) in figures.sorted(by: { $0.key < $1.key }) {
                print(String(format: "BENCH refresh store, %@: median %.0f/s over %d turns", way, rates.sorted()[rates.count / 2], rates.count))
            }
        }
    }

    /// The spend as it was before migration 0003, kept here as the baseline.
    static func formerRefresh(_ token: TenantToken, sessions: SessionStore, database: Database) async throws -> RefreshOutcome {
        let successor = token.successor(key: sessions.successorKey)
        let hash = ByteBuffer(bytes: token.hash)
        let successorHash = ByteBuffer(bytes: successor.hash)
        return try await database.withTenant(token.tenantID) { connection in
            let rows = try await connection.query(
                """
                WITH spent AS (
                  UPDATE auth.refresh_tokens SET spent_at = now(), successor_hash = \(successorHash)
                  WHERE token_hash = \(hash) AND spent_at IS NULL AND revoked_at IS NULL
                    AND expires_at > now() AND family_expires_at > now()
                  RETURNING tenant_id, user_id, family_id, family_expires_at
                ), successor AS (
                  INSERT INTO auth.refresh_tokens (token_hash, tenant_id, user_id, family_id, expires_at, family_expires_at)
                  SELECT \(successorHash), tenant_id, user_id, family_id, now() + make_interval(secs => \(sessions.idleLifetime)), family_expires_at
                  FROM spent
                  RETURNING user_id, tenant_id
                )
                SELECT u.id, u.email, u.name, u.email_verified, u.platform_operator, t.id, t.name, t.slug, t.status, t.plan, m.role
                FROM successor s JOIN auth.users u ON u.id = s.user_id
                LEFT JOIN auth.memberships m ON m.user_id = s.user_id AND m.tenant_id = s.tenant_id
                LEFT JOIN auth.tenants t ON t.id = m.tenant_id
                """, logger: database.logger)
            for try await _ in rows { return .rotated(successor: successor, profile: nil) }
            return .invalid
        }
    }
}
