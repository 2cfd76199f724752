import Foundation
import Synchronization

/// The inbox streams each user has open on this replica. Every stream polls the
/// database, so one user opening hundreds of them would slow everyone down.
final class StreamSlots: Sendable {
    let perUser: Int
    private let open = Mutex<[UUID: Int]>([:])

    init(perUser: Int) {
        self.perUser = perUser
    }

    /// Takes a slot for `user`; false when they have `perUser` streams open already.
    func take(_ user: UUID) -> Bool {
        open.withLock { open in
            guard open[user, default: 0] < perUser else { return false }
            open[user, default: 0] += 1
            return true
        }
    }

    func give(_ user: UUID) {
        open.withLock { open in
            let left = open[user, default: 1] - 1
            open[user] = left > 0 ? left : nil
        }
    }
}
