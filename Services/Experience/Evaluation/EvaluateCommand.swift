import ArgumentParser
import Contracts
import Foundation
import ServiceKit

/// `experience evaluate`: generates a planted dataset, scores popularity, the heuristic and
/// ALS on its held-out interactions, prints the figures, and writes the split (CSV) and the
/// report (JSON) to `--out` so `ml/implicit_baseline.py` can train the `implicit` package's
/// ALS on exactly the same data.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate", abstract: "Offline recall@20 and NDCG@20 of popularity, heuristic and ALS on a planted dataset.")

    @Option(help: "Where the split and report go.") var out: String = ".dev/eval"
    @Option var users = 10_000
    @Option var items = 20_000
    @Option var interactions = 400_000
    @Option var factors = 32
    @Option var iterations = 15
    @Option var regularization: Float = 0.05
    @Option var alpha: Float = 5
    @Option(help: "At most this many users are scored.") var sampleUsers = 2000

    func run() throws {
        let dataset = PlantedDataset(.init(users: users, items: items, interactions: interactions))
        let evaluation = OfflineEvaluation(dataset, sampleUsers: sampleUsers)
        let parameters = ImplicitALS.Parameters(factors: factors, regularization: regularization, alpha: alpha, iterations: iterations)
        let report = evaluation.run(als: parameters)
        try write(evaluation, report)
        print("planted dataset: \(users) users, \(items) items, \(report.interactions) interactions; \(report.evaluatedUsers) users scored")
        print("ALS trained in \(String(format: "%.1f", report.alsTrainingSeconds)) s (\(factors) factors, \(iterations) iterations)")
        let weights = zip(RankingFeatures.names, report.rerankerWeights).map { "\($0) \(String(format: "%.2f", $1))" }
        print("learned reranker: \(report.rerankerPairs) pairs from other users; weights " + weights.joined(separator: ", "))
        for result in report.results {
            let name = result.model.padding(toLength: 12, withPad: " ", startingAt: 0)
            print(name + String(format: " recall@%d %.4f   NDCG@%d %.4f", report.k, result.recall, report.k, result.ndcg))
        }
    }

    func write(_ evaluation: OfflineEvaluation, _ report: OfflineEvaluation.Report) throws {
        let folder = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var train = "user,item,strength\n"
        for entry in evaluation.split.train { train += "\(entry.user),\(entry.item),\(UserProfile.weight(entry.kind, progress: nil))\n" }
        var held = "user,item,cutoff\n"
        for user in evaluation.evaluated {
            guard let items = evaluation.split.held[user], let cutoff = evaluation.split.cutoff[user] else { continue }
            for item in items.sorted() { held += "\(user),\(item),\(cutoff.timeIntervalSince1970)\n" }
        }
        var published = "item,published\n"
        for (item, at) in evaluation.dataset.published.enumerated() { published += "\(item),\(at.timeIntervalSince1970)\n" }
        try Data(train.utf8).write(to: folder.appendingPathComponent("train.csv"))
        try Data(held.utf8).write(to: folder.appendingPathComponent("held.csv"))
        try Data(published.utf8).write(to: folder.appendingPathComponent("items.csv"))
        try PlatformJSON.encoder.encode(report).write(to: folder.appendingPathComponent("report.json"))
    }
}
