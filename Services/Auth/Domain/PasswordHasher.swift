import HummingbirdBcrypt
import NIOPosix

/// bcrypt at the configured cost. Hashing takes tens of milliseconds of CPU, so it runs
/// on NIO's blocking thread pool, not on one of the few Swift concurrency threads.
struct PasswordHasher: Sendable {
    let cost: UInt8
    /// Checked when the email is unknown; at the configured cost, or an unknown account
    /// would be told apart from a wrong password by the time it takes.
    let dummyHash: String

    init(cost: UInt8) {
        self.cost = cost
        self.dummyHash = Bcrypt.hash("dummy password for timing", cost: cost)
    }

    func hash(_ password: String) async throws -> String {
        let cost = cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    /// Verifies against `hash`, or against a dummy hash when there is none, so an unknown
    /// account takes as long to refuse as a wrong password.
    func verify(_ password: String, hash: String?) async throws -> Bool {
        let against = hash ?? dummyHash
        let matches = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: against) }
        return hash != nil && matches
    }
}
