import Foundation
import Persistence
import PostgresNIO

/// Brute-force protection: failed logins counted per account and per client IP; past a
/// threshold each further failure locks the key for twice as long as the one before.
struct LoginThrottle: Sendable {
    struct Policy: Sendable {
        var threshold: Int
        var baseSeconds: Int
        var maxSeconds: Int
    }

    let database: Database
    var account = Policy(threshold: 5, baseSeconds: 30, maxSeconds: 3600)
    var clientIP = Policy(threshold: 50, baseSeconds: 30, maxSeconds: 3600)
    /// Wrong second-factor codes, per account. Kept apart from password failures, so a
    /// correct password (which clears those) never gives a code guesser a fresh budget.
    var secondFactor = Policy(threshold: 5, baseSeconds: 60, maxSeconds: 3600)
    /// Failures older than this are forgotten.
    var window = 3600

    static func accountKey(_ normalizedEmail: String) -> String { "account:\(normalizedEmail)" }
    static func ipKey(_ ip: String) -> String { "ip:\(ip)" }
    static func secondFactorKey(_ user: UUID) -> String { "mfa:\(user.uuidString.lowercased())" }

    /// Seconds until the longest lock among `keys` ends, or nil when none is locked.
    func lockedFor(_ keys: [String]) async throws -> Int? {
        let rows = try await database.query(
            """
            SELECT max(ceil(EXTRACT(EPOCH FROM locked_until - now())))::int FROM auth.login_throttle
            WHERE key = ANY(\(keys)) AND locked_until > now()
            """, logger: database.logger)
        for try await seconds in rows.decode(Int?.self) { return seconds }
        return nil
    }

    /// Counts a failure for each key; answers the lock it started, if any, per key.
    func recordFailure(account: String, ip: String?) async throws -> [String: Int] {
        var pairs = [(account, self.account)]
        if let ip { pairs.append((ip, clientIP)) }
        return try await count(pairs)
    }

    /// Counts a wrong second-factor code for the account; answers the lock it started.
    func recordSecondFactorFailure(user: UUID) async throws -> Int? {
        try await count([(Self.secondFactorKey(user), secondFactor)]).values.first
    }

    private func count(_ pairs: [(String, Policy)]) async throws -> [String: Int] {
        var locks: [String: Int] = [:]
        for (key, policy) in pairs {
            let rows = try await database.query(
                """
                INSERT INTO auth.login_throttle AS t (key, failures, last_failure_at) VALUES (\(key), 1, now())
                ON CONFLICT (key) DO UPDATE SET
                  failures = CASE WHEN t.last_failure_at < now() - make_interval(secs => \(window)) THEN 1 ELSE t.failures + 1 END,
                  last_failure_at = now()
                RETURNING failures
                """, logger: database.logger)
            var failures = 0
            for try await count in rows.decode(Int.self) { failures = count }
            guard failures >= policy.threshold else { continue }
            let exponent = min(failures - policy.threshold, 20)
            let seconds = min(policy.maxSeconds, policy.baseSeconds << exponent)
            try await database.query(
                "UPDATE auth.login_throttle SET locked_until = now() + make_interval(secs => \(seconds)) WHERE key = \(key)",
                logger: database.logger)
            locks[key] = seconds
        }
        return locks
    }

    /// A successful login clears the account's count (not the IP's: one good password
    /// must not reset an attacker's budget across other accounts).
    /// Also what a correct second factor does, with its own key.
    func recordSuccess(account: String) async throws {
        try await database.query("DELETE FROM auth.login_throttle WHERE key = \(account)", logger: database.logger)
    }
}
