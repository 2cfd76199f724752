import Foundation

/// The intake's stages, in order: each a job kind that takes a batch of articles at its stage.
/// Relevance is not among them: it depends on the reader and the day, so a digest weighs it
/// when it is assembled.
enum IntakeStage: String, CaseIterable, Codable, Sendable {
    case normalise, quality, topics, summary
    case nearDuplicates = "near_duplicates"

    /// The stage after this one; nil after the last.
    var next: IntakeStage? {
        Self.allCases.firstIndex(of: self).flatMap { $0 + 1 < Self.allCases.count ? Self.allCases[$0 + 1] : nil }
    }
}

/// A fetched article on its way through the intake: what it is, where from, and what each
/// stage found so far.
struct IntakeArticle: Codable, Sendable, Equatable {
    var key: String
    var sourceId: UUID
    var provider: String
    var title: String
    var url: String?
    var author: String?
    var publishedAt: Date
    var categories: [String]
    /// Plain text: the full content when the feed gives it, else its summary.
    var text: String
    /// SHA-256 of the title and text: the same article, whatever its address.
    var contentHash: String
    var language: String
    var quality: Double?
    var topics: [String]?
    var summary: String?
}

/// What an article's text earned, kept by its hash so the same text is not scored twice.
struct ArticleResult: Sendable, Equatable {
    var contentHash: String
    var quality: Double
    /// Why it was rejected (empty when it passed).
    var reasons: [String]
    var summary: String
    /// The item it became; nil when rejected.
    var itemKey: String?
}
