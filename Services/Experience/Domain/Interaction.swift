import Foundation
import ServiceKit

/// What a user did with an item.
enum InteractionKind: String, Codable, Sendable, CaseIterable {
    case view, click, like, save, share, dismiss
    /// How far the user read, in percent.
    case progress
}

/// One event of `POST /v1/experience/events`, as the client sent it.
struct InteractionInput: Decodable, Sendable {
    /// The client's id of the event: sending it again records nothing twice.
    var eventId: String?
    /// The tenant's key of the user. An API client names it; a signed-in user's events are
    /// their own, and may omit it.
    var userId: String?
    var itemKey: String?
    var kind: String?
    var progress: Int?
    var occurredAt: Date?
}

/// The body of `POST /v1/experience/events`.
struct InteractionBatchInput: Decodable, Sendable {
    var events: [InteractionInput]
}

/// An event that passed the checks, ready for the log.
struct Interaction: Sendable, Equatable, Codable {
    var eventId: String
    var userKey: String
    var itemKey: String
    var kind: InteractionKind
    var progress: Int?
    var occurredAt: Date
}

/// What became of a batch: recorded, already seen (by event id), or refused with a reason.
struct InteractionBatchResult: Codable, Sendable, Equatable {
    struct Rejection: Codable, Sendable, Equatable {
        var index: Int
        var eventId: String?
        var field: String
        var reason: String
    }

    var accepted: Int
    var duplicates: Int
    var rejected: [Rejection]
}

enum InteractionRules {
    static let maxBatch = 500
    /// Late events are refused: counters and models are built from a log that only grows at
    /// its end, within a week.
    static let oldest: TimeInterval = 7 * 24 * 3600
    /// A client's clock may run a little ahead.
    static let clockSkew: TimeInterval = 5 * 60

    /// The event as recorded, or why not. `user` is the signed-in user's own key; nil for an
    /// API client, whose events must name theirs.
    static func check(_ input: InteractionInput, user: String?, now: Date) -> Result<Interaction, Refusal> {
        guard let eventId = input.eventId, (1...100).contains(eventId.unicodeScalars.count), printable(eventId) else {
            return .failure(Refusal("eventId", "is required: 1 to 100 printable characters"))
        }
        let userKey: String
        switch self.userKey(own: user, named: input.userId) {
        case .success(let key): userKey = key
        case .failure(let refusal): return .failure(refusal)
        }
        guard let itemKey = input.itemKey, (1...200).contains(itemKey.unicodeScalars.count), printable(itemKey) else {
            return .failure(Refusal("itemKey", "is required: 1 to 200 printable characters"))
        }
        guard let kind = input.kind.flatMap(InteractionKind.init(rawValue:)) else {
            return .failure(Refusal("kind", "must be one of " + InteractionKind.allCases.map(\.rawValue).joined(separator: ", ")))
        }
        switch (kind, input.progress) {
        case (.progress, let percent?) where (0...100).contains(percent): break
        case (.progress, _): return .failure(Refusal("progress", "is required for kind progress: 0 to 100"))
        case (_, nil): break
        case (_, _?): return .failure(Refusal("progress", "belongs to kind progress only"))
        }
        guard let occurredAt = input.occurredAt else { return .failure(Refusal("occurredAt", "is required")) }
        if occurredAt > now.addingTimeInterval(clockSkew) { return .failure(Refusal("occurredAt", "is in the future")) }
        if occurredAt < now.addingTimeInterval(-oldest) { return .failure(Refusal("occurredAt", "is older than 7 days")) }
        return .success(
            Interaction(eventId: eventId, userKey: userKey, itemKey: itemKey, kind: kind, progress: input.progress, occurredAt: occurredAt))
    }

    /// Whose events or feed a request is about: a signed-in user's own (`own`; naming
    /// another is refused), or the user an API client names.
    static func userKey(own: String?, named: String?) -> Result<String, Refusal> {
        switch (own, named) {
        case (let own?, nil): .success(own)
        case (let own?, let named?) where named == own: .success(own)
        case (_?, _?): .failure(Refusal("userId", "must be the signed-in user's own, or absent"))
        case (nil, let named?) where (1...200).contains(named.unicodeScalars.count) && printable(named): .success(named)
        case (nil, _): .failure(Refusal("userId", "is required from an API client: 1 to 200 printable characters"))
        }
    }

    struct Refusal: Error, Equatable {
        var field: String
        var reason: String
        init(_ field: String, _ reason: String) {
            self.field = field
            self.reason = reason
        }
    }

    private static func printable(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F }
    }
}
