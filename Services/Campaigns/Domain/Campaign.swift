import Foundation
import ServiceKit

/// A marketing email sent once to an audience: a pinned template version, lists and
/// segments, a sender, a pace.
struct Campaign: Codable, Sendable, Equatable {
    enum State: String, Codable, Sendable, CaseIterable {
        case draft, scheduled, running, paused, finished, cancelled
    }

    var id: UUID
    var name: String
    var templateId: UUID
    var templateVersion: Int
    var fromName: String
    var fromEmail: String
    var replyTo: String?
    var listIds: [UUID]
    var segmentIds: [UUID]
    var data: [String: JSONValue]
    var state: State
    var scheduledAt: Date?
    var timeZone: String
    var ratePerSecond: Double
    var maxConsecutiveFailures: Int
    var pauseReason: String?
    var audience: Int?
    var startedAt: Date?
    var finishedAt: Date?
    var abTest: ABTest?
    /// At most this many messages in any 60 minutes.
    var maxPerHour: Int?
    /// The A/B test's winning variant, once picked.
    var winner: String?
    var version: Int
    var createdAt: Date
    var updatedAt: Date

    var etag: String { "\"v\(version)\"" }
}

/// What a campaign may do next. Everything else answers 409.
enum CampaignTransition: String, Sendable {
    case schedule, start, pause, resume, finish, cancel

    var to: Campaign.State {
        switch self {
        case .schedule: .scheduled
        case .start, .resume: .running
        case .pause: .paused
        case .finish: .finished
        case .cancel: .cancelled
        }
    }

    /// The `campaigns.campaign.v1` event type it announces.
    var event: String {
        switch self {
        case .schedule: "campaigns.campaign.scheduled"
        case .start: "campaigns.campaign.started"
        case .pause: "campaigns.campaign.paused"
        case .resume: "campaigns.campaign.resumed"
        case .finish: "campaigns.campaign.finished"
        case .cancel: "campaigns.campaign.cancelled"
        }
    }

    func allowed(from state: Campaign.State) -> Bool {
        switch self {
        case .schedule: state == .draft
        case .start: state == .draft || state == .scheduled
        case .pause: state == .running
        case .resume: state == .paused
        case .finish: state == .running
        case .cancel: [.draft, .scheduled, .running, .paused].contains(state)
        }
    }
}

/// The body of `POST /v1/campaigns` (all of it) and `PATCH /v1/campaigns/{id}` (any of it).
struct CampaignInput: Decodable, Sendable {
    var name: String?
    var templateId: UUID?
    /// The template version to pin; the latest when absent.
    var templateVersion: Int?
    var fromName: String?
    var fromEmail: String?
    var replyTo: String?
    var listIds: [UUID]?
    var segmentIds: [UUID]?
    var data: [String: JSONValue]?
    var ratePerSecond: Double?
    var maxConsecutiveFailures: Int?
    var abTest: ABTest?
    var maxPerHour: Int?
}

/// The body of `POST /v1/campaigns/{id}/launch`: now, or at a time in a time zone.
struct LaunchInput: Decodable, Sendable {
    var at: Date?
    /// IANA name; the time is shown back in it (the instant is absolute).
    var timeZone: String?
}

/// How a campaign is going.
struct CampaignStatus: Codable, Sendable, Equatable {
    var id: UUID
    var state: Campaign.State
    var audience: Int
    var queued: Int
    var sending: Int
    var sent: Int
    var failed: Int
    var bounced: Int
    var pauseReason: String?
    var startedAt: Date?
    var finishedAt: Date?
    /// Sent messages per minute since it started, newest last.
    var perMinute: [Minute]
    var engagement: Engagement
    /// With an A/B test: each variant's results, and the winner once picked.
    var variants: [VariantResult]?
    var winner: String?
    /// Recipients waiting for the winner.
    var held: Int

    struct Engagement: Codable, Sendable, Equatable {
        var opens: Int
        var uniqueOpens: Int
        var clicks: Int
        var uniqueClicks: Int
        /// The most clicked links.
        var links: [Link]

        struct Link: Codable, Sendable, Equatable {
            var url: String
            var clicks: Int
            var uniqueClicks: Int
        }
    }

    struct Minute: Codable, Sendable, Equatable {
        var minute: Date
        var sent: Int
    }
}

enum CampaignRules {
    static func name(_ raw: String?, required: Bool, _ v: inout Validator) -> String? {
        guard let raw else {
            if required { v.add("name", "is required") }
            return nil
        }
        return v.text(raw, "name", max: 200)
    }

    static func from(_ name: String?, _ email: String?, required: Bool, _ v: inout Validator) -> (String?, String?) {
        if required, email == nil { v.add("fromEmail", "is required") }
        let address = email.map { raw -> String in
            guard let address = EmailAddress.normalised(raw) else {
                v.add("fromEmail", "is not an email address")
                return ""
            }
            return address
        }
        let display = name.flatMap { v.text($0, "fromName", max: 200, required: false) }
        if let display, display.contains(where: { "\r\n\"<>".contains($0) }) {
            v.add("fromName", "must not contain quotes, angle brackets or line breaks")
        }
        return (display, address)
    }

    static func audience(lists: [UUID]?, segments: [UUID]?, _ v: inout Validator) {
        v.check((lists?.count ?? 0) <= 50, "listIds", "at most 50")
        v.check((segments?.count ?? 0) <= 20, "segmentIds", "at most 20")
    }

    static func rate(_ value: Double?, _ v: inout Validator) {
        if let value { v.check(value.isFinite && value > 0 && value <= 10_000, "ratePerSecond", "must be more than 0 and at most 10000") }
    }
}
