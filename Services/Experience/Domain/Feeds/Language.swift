import Foundation

/// An article's language from its commonest words: each language's share of the text's
/// function words, the best if it is clearly ahead. Seven languages; "und" (undetermined)
/// when the text is short or mixed.
enum Language {
    static let stopwords: [String: Set<String>] = [
        "en": [
            "the", "and", "of", "to", "in", "is", "that", "for", "it", "with", "was", "on", "as", "are", "this", "by", "from", "at", "be", "have",
        ],
        "de": [
            "der", "die", "und", "das", "ist", "nicht", "mit", "den", "von", "zu", "sich", "des", "auf", "für", "ein", "eine", "dem", "im", "auch",
            "wird",
        ],
        "fr": [
            "le", "la", "les", "et", "des", "est", "une", "un", "du", "dans", "pour", "que", "qui", "sur", "pas", "au", "avec", "par", "ce", "sont",
        ],
        "es": ["el", "la", "los", "las", "y", "que", "del", "en", "es", "por", "un", "una", "con", "para", "se", "su", "al", "lo", "como", "más"],
        "it": ["il", "la", "di", "che", "e", "un", "una", "per", "non", "sono", "del", "della", "con", "gli", "le", "nel", "si", "da", "anche", "è"],
        "nl": [
            "de", "het", "een", "en", "van", "dat", "niet", "is", "op", "te", "met", "voor", "zijn", "er", "maar", "ook", "aan", "als", "bij",
            "wordt",
        ],
        "pt": ["o", "os", "as", "que", "de", "e", "do", "da", "em", "um", "uma", "para", "com", "não", "por", "se", "mais", "dos", "das", "é"],
    ]

    static let undetermined = "und"

    static func detect(_ text: String) -> String {
        let words = NearDuplicates.words(text).prefix(400).map(String.init)
        guard words.count >= 8 else { return undetermined }
        let scores = stopwords.mapValues { list in words.filter { list.contains($0) }.count }.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
        guard let best = scores.first, best.value >= 3 else { return undetermined }
        let second = scores.dropFirst().first?.value ?? 0
        // Clearly ahead: half as many hits again as the runner-up.
        return Double(best.value) >= 1.5 * Double(second) ? best.key : undetermined
    }
}
