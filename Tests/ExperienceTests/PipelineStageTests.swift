import Foundation
import Testing

@testable import Experience

@Suite("pipeline stages: summary, quality")
struct PipelineStageTests {
    static let article = """
        The city council voted on Tuesday to close the old harbour bridge to cars from March. Engineers found corrosion in two of the \
        bridge's four main cables. The repairs will take at least eighteen months, the engineers said. Buses will be diverted over the \
        new ring road while the bridge is closed. Dr. Alvarez, who led the inspection, said the bridge is safe for pedestrians. \
        Local shops near the bridge fear that fewer visitors will come during the repairs. The council will pay for the repairs from \
        its infrastructure fund, and the bridge will reopen to cars once the cables are replaced.
        """

    @Test("sentences split at their ends, not after abbreviations")
    func sentences() {
        let sentences = Summary.sentences(Self.article)
        #expect(sentences.count == 7)
        #expect(sentences[4].hasPrefix("Dr. Alvarez"))
    }

    @Test("TextRank keeps the sentences most connected to the rest, in the text's order")
    func textRank() {
        let summary = Summary.of(Self.article, sentences: 2)
        let sentences = Summary.sentences(summary)
        #expect(sentences.count == 2)
        #expect(summary.contains("bridge"))
        // In the text's order.
        let all = Summary.sentences(Self.article)
        let positions = sentences.compactMap { all.firstIndex(of: $0) }
        #expect(positions == positions.sorted())
        // The closing sentence (bridge, repairs, cables, council: the story's words) ranks high.
        #expect(summary.contains("reopen to cars once the cables are replaced"))
        #expect(Summary.of("One sentence only here.", sentences: 3) == "One sentence only here.")
    }

    @Test("quality: an article passes; spam, shouting and repetition are rejected with their reasons")
    func quality() {
        #expect(!Quality.of(title: "Harbour bridge to close", text: Self.article).rejected)
        #expect(Quality.of(title: "Harbour bridge to close", text: Self.article).reasons.isEmpty)
        let spam = Quality.of(title: "BUY NOW BEFORE IT IS GONE!!!", text: "Limited offer! Buy now and earn $500 a day working from home. Act now!")
        #expect(spam.rejected)
        #expect(spam.reasons.contains("spam phrases") && spam.reasons.contains("shouting title"))
        let repetitive = Quality.of(title: "Deals", text: String(repeating: "great deal great price ", count: 20))
        #expect(repetitive.reasons.contains("repetitive"))
        let short = Quality.of(title: "Ferry times", text: "Winter sailings start Monday.")
        #expect(!short.rejected && short.reasons == ["very short"])
    }
}
