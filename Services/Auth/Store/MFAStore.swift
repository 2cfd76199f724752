import Foundation
import Persistence
import PostgresNIO
import ServiceKit

/// TOTP secrets (sealed), replay protection, recovery codes and login challenges.
struct MFAStore: Sendable {
    let database: Database
    let sealer: KeySealer
    static let challengeLifetime = 300
    static let challengeAttempts = 5
    static let recoveryCodeCount = 10

    enum State: Sendable, Equatable {
        case off, pending, enabled
    }

    func state(userID: UUID) async throws -> State {
        let rows = try await database.query(
            "SELECT mfa_secret_sealed IS NOT NULL, mfa_enabled FROM auth.users WHERE id = \(userID)", logger: database.logger)
        for try await (hasSecret, enabled) in rows.decode((Bool, Bool).self) {
            return enabled ? .enabled : (hasSecret ? .pending : .off)
        }
        return .off
    }

    /// Stores a new pending secret (replacing an unconfirmed one).
    func beginEnrolment(userID: UUID, totp: TOTP) async throws {
        let sealed = ByteBuffer(bytes: try sealer.seal(totp.secret))
        try await database.query(
            "UPDATE auth.users SET mfa_secret_sealed = \(sealed), mfa_last_step = 0 WHERE id = \(userID) AND NOT mfa_enabled",
            logger: database.logger)
    }

    /// Checks a code against the user's secret and records its time step, so the same code
    /// cannot be used twice. The row lock serialises concurrent attempts.
    func acceptCode(userID: UUID, code: String, on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.query(
            "SELECT mfa_secret_sealed, mfa_last_step FROM auth.users WHERE id = \(userID) FOR UPDATE", logger: database.logger)
        for try await (sealed, lastStep) in rows.decode((ByteBuffer?, Int64).self) {
            guard let sealed, let step = TOTP(secret: try sealer.open(Array(buffer: sealed))).matchingStep(code), step > lastStep else {
                return false
            }
            try await connection.query("UPDATE auth.users SET mfa_last_step = \(step) WHERE id = \(userID)", logger: database.logger)
            return true
        }
        return false
    }

    /// Confirms enrolment with a first code; answers the recovery codes (shown once).
    func confirm(userID: UUID, code: String) async throws -> [String]? {
        try await database.withTransaction { connection in
            guard try await acceptCode(userID: userID, code: code, on: connection) else { return nil }
            try await connection.query("UPDATE auth.users SET mfa_enabled = true WHERE id = \(userID)", logger: database.logger)
            return try await replaceRecoveryCodes(userID: userID, on: connection)
        }
    }

    func replaceRecoveryCodes(userID: UUID, on connection: PostgresConnection) async throws -> [String] {
        try await connection.query("DELETE FROM auth.mfa_recovery_codes WHERE user_id = \(userID)", logger: database.logger)
        var codes: [String] = []
        for _ in 0..<Self.recoveryCodeCount {
            var generator = SystemRandomNumberGenerator()
            let raw = Base32.encode((0..<7).map { _ in UInt8.random(in: 0...255, using: &generator) }).prefix(10).lowercased()
            let code = "\(raw.prefix(5))-\(raw.suffix(5))"
            codes.append(code)
            try await connection.query(
                "INSERT INTO auth.mfa_recovery_codes (user_id, code_hash) VALUES (\(userID), \(OpaqueToken.hash(code)))",
                logger: database.logger)
        }
        return codes
    }

    /// Spends a recovery code; case and dashes do not matter to the user.
    func useRecoveryCode(userID: UUID, code: String, on connection: PostgresConnection) async throws -> Bool {
        let cleaned = code.lowercased().filter { $0.isLetter || $0.isNumber }
        guard cleaned.count == 10 else { return false }
        let normalized = "\(cleaned.prefix(5))-\(cleaned.suffix(5))"
        let rows = try await connection.query(
            """
            UPDATE auth.mfa_recovery_codes SET used_at = now()
            WHERE user_id = \(userID) AND code_hash = \(OpaqueToken.hash(normalized)) AND used_at IS NULL RETURNING 1
            """, logger: database.logger)
        for try await _ in rows { return true }
        return false
    }

    func disable(userID: UUID, on connection: PostgresConnection) async throws {
        try await connection.query(
            "UPDATE auth.users SET mfa_secret_sealed = NULL, mfa_enabled = false, mfa_last_step = 0 WHERE id = \(userID)",
            logger: database.logger)
        try await connection.query("DELETE FROM auth.mfa_recovery_codes WHERE user_id = \(userID)", logger: database.logger)
    }

    func createChallenge(userID: UUID, tenantID: UUID) async throws -> OpaqueToken {
        let token = OpaqueToken.random(prefix: "mfa_")
        try await database.query(
            """
            INSERT INTO auth.mfa_challenges (token_hash, user_id, tenant_id, expires_at)
            VALUES (\(token.hash), \(userID), \(tenantID), now() + make_interval(secs => \(Self.challengeLifetime)))
            """, logger: database.logger)
        return token
    }

    /// Counts an attempt on a live challenge; answers its user and tenant, or nil when the
    /// challenge is unknown, used, expired or out of attempts.
    func attempt(_ text: String, on connection: PostgresConnection) async throws -> (userID: UUID, tenantID: UUID)? {
        let rows = try await connection.query(
            """
            UPDATE auth.mfa_challenges SET attempts = attempts + 1
            WHERE token_hash = \(OpaqueToken.hash(text)) AND used_at IS NULL AND expires_at > now() AND attempts < \(Self.challengeAttempts)
            RETURNING user_id, tenant_id
            """, logger: database.logger)
        for try await (user, tenant) in rows.decode((UUID, UUID).self) { return (user, tenant) }
        return nil
    }

    func finishChallenge(_ text: String, on connection: PostgresConnection) async throws {
        try await connection.query(
            "UPDATE auth.mfa_challenges SET used_at = now() WHERE token_hash = \(OpaqueToken.hash(text))", logger: database.logger)
    }
}
