import Foundation
import Testing

@testable import Experience

@Suite("ALS and offline evaluation")
struct CollaborativeTests {
    @Test("the interaction matrix adds up repeated pairs and keeps both views alike")
    func matrix() {
        let matrix = InteractionMatrix(users: 3, items: 4, entries: [(0, 1, 1), (2, 3, 2), (0, 1, 4), (1, 0, 1), (0, 3, 1)])
        #expect(matrix.count == 4)
        #expect(matrix.byUser.starts == [0, 2, 3, 4])
        #expect(matrix.byUser.indices == [1, 3, 0, 3])
        #expect(matrix.byUser.values == [5, 1, 1, 2])
        #expect(matrix.byItem.starts == [0, 1, 2, 2, 4])
        #expect(matrix.byItem.indices == [1, 0, 0, 2])
    }

    @Test("recall counts hits out of what K could hold; NDCG rewards hits placed first")
    func metrics() {
        #expect(RankingMetrics.recall([1, 2, 3], held: [2, 9], k: 3) == 0.5)
        #expect(RankingMetrics.recall([1, 2], held: [1, 2, 3, 4], k: 2) == 1)
        #expect(RankingMetrics.ndcg([7, 8], held: [7], k: 2) == 1)
        #expect(abs(RankingMetrics.ndcg([8, 7], held: [7], k: 2) - 1 / log2(3)) < 1e-12)
        #expect(RankingMetrics.ndcg([8, 9], held: [7], k: 2) == 0)
        #expect(RankingMetrics.top([0.1, 0.9, 0.5, 0.7], k: 2) { $0 == 1 } == [3, 2])
    }

    @Test("conjugate-gradient steps solve the regularised least squares of one row")
    func solvesOneRow() {
        // One user, two items; with many steps CG reaches the exact solution of the 2 × 2 system.
        let k = 2
        let y: [Float] = [1, 0, 0, 1]
        let matrix = InteractionMatrix(users: 1, items: 2, entries: [(0, 0, 1)])
        var x: [Float] = [0.3, 0.3]
        let parameters = ImplicitALS.Parameters(factors: k, regularization: 0.1, alpha: 1, conjugateGradientSteps: 10)
        ImplicitALS.solve(&x, fixed: y, rows: matrix.byUser, k: k, parameters)
        // (YᵀCY + λI) x = YᵀCp: item 0 has confidence 2 → (2 + 0.1) x₀ = 2; item 1 → (1 + 0.1) x₁ = 0.
        #expect(abs(x[0] - 2 / 2.1) < 1e-4)
        #expect(abs(x[1]) < 1e-4)
    }

    @Test("on planted tastes, ALS, the heuristic and the learned reranker find held-out items far better than popularity")
    func plantedTastes() {
        let dataset = PlantedDataset(.init(users: 400, items: 800, interactions: 24_000, categories: 8))
        let report = OfflineEvaluation(dataset, sampleUsers: 400).run(als: .init(factors: 16, iterations: 8))
        let recall = Dictionary(uniqueKeysWithValues: report.results.map { ($0.model, $0.recall) })
        let popularity = recall["popularity"] ?? 0
        #expect(report.evaluatedUsers > 150)
        #expect((recall["als"] ?? 0) > popularity * 1.3)
        #expect((recall["heuristic"] ?? 0) > popularity * 1.3)
        #expect((recall["learned"] ?? 0) > popularity * 1.3)
        #expect(report.rerankerPairs > 1000)
        #expect(report.results.allSatisfy { (0...1).contains($0.ndcg) })
    }
}

@Suite("learned reranker")
struct RerankerTests {
    @Test("pairwise logistic regression recovers which features drive engagement, and how much more")
    func recoversPlantedWeights() {
        var random = SeededRandom(seed: 3)
        func draw() -> RankingFeatures {
            RankingFeatures(
                affinity: .random(in: 0..<1, using: &random), freshness: .random(in: 0..<1, using: &random),
                popularity: .random(in: 0..<1, using: &random), collaborative: .random(in: 0..<1, using: &random),
                timeOfDay: .random(in: 0..<1, using: &random))
        }
        // Engagement is 3·affinity + 1·freshness plus noise; the rest are irrelevant.
        func utility(_ f: RankingFeatures) -> Double { 3 * f.affinity + f.freshness + Exploration.normal(random: &random) * 0.3 }
        var pairs: [(better: RankingFeatures, worse: RankingFeatures)] = []
        for _ in 0..<4000 {
            let (a, b) = (draw(), draw())
            pairs.append(utility(a) >= utility(b) ? (a, b) : (b, a))
        }
        let trained = PairwiseReranker.train(pairs: pairs)
        let w = trained.model.weights
        #expect(trained.pairs == 4000)
        #expect(trained.accuracy > 0.85)
        #expect(w[0] > 0 && w[1] > 0)
        #expect(abs(w[0] / w[1] - 3) < 0.6)
        #expect(abs(w[2]) < w[1] / 4 && abs(w[3]) < w[1] / 4 && abs(w[4]) < w[1] / 4)
    }

    @Test("Gaussian elimination solves a small system and refuses a singular one")
    func solve() throws {
        let x = try #require(PairwiseReranker.solve([[2, 1], [1, 3]], [3, 5]))
        #expect(abs(x[0] - 0.8) < 1e-12 && abs(x[1] - 1.4) < 1e-12)
        #expect(PairwiseReranker.solve([[1, 2], [2, 4]], [1, 2]) == nil)
    }
}
