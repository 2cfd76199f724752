import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import ServiceKit

/// `GET /v1/experience/home`: the signed-in user's sections (an API client names the user
/// with `?userId=`), each item with its score and the reason it is there.
struct HomeRoutes: RouteGroup {
    let store: FeedStore
    let experiments: ExperimentStore
    let models: ModelStore
    let rules: FeedRulesStore
    let cache: HomeCache
    let impressions: ImpressionLog

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let home = router.group("v1/experience/home").add(middleware: AuthenticationMiddleware(verifier: verifier, clients: ClientAccess.experience))
        home.get { request, context in try await feed(request, context) }
    }

    func feed(_ request: Request, _ context: ServiceRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let user = try identity.userKey(named: request.queryItems["userId"])
        let tenant = identity.tenantID
        let timeZone = try Self.timeZone(request.queryItems["timeZone"])
        // RFC 9211's Cache-Status says whether the feed was kept or built now.
        if let cached = cache.feed(tenant: tenant, user: user) { return Self.response(cached, status: "experience; hit") }
        let generation = cache.generation(of: tenant)
        let feed = try await build(user: user, tenant: tenant, now: Date(), timeZone: timeZone)
        let body = ByteBuffer(data: try PlatformJSON.encoder.encode(feed))
        cache.store(body, tenant: tenant, user: user, generation: generation)
        return Self.response(body, status: "experience; fwd=miss; stored")
    }

    static func response(_ body: ByteBuffer, status: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8", cacheStatus: status], body: ResponseBody(byteBuffer: body))
    }

    static let cacheStatus = HTTPField.Name("Cache-Status")!

    /// `?timeZone=Europe/Berlin`: the user's zone, for the time-of-day adjustment; UTC when absent.
    static func timeZone(_ raw: String?) throws -> TimeZone {
        guard let raw else { return .gmt }
        guard let zone = UserProfile.zone(named: raw) else {
            throw Problem.validation([.init(field: "timeZone", message: UserProfile.zoneRule)])
        }
        return zone
    }

    func build(user: String, tenant: UUID, now: Date, timeZone: TimeZone) async throws -> HomeFeed {
        // A running experiment decides the user's ranking weights and section order.
        let experiment = try await cache.experiment.value(for: tenant) { try await experiments.running(tenant: tenant) }
        let variant = experiment?.variant(for: user)
        async let factors = models.userFactors(user, tenant: tenant)
        async let tenantRules = cache.rules.value(for: tenant) { [rules] in try await rules.tenantRules(tenant: tenant) }
        async let reranker: PairwiseReranker? =
            variant?.algorithm == "learned" ? cache.reranker.value(for: tenant) { [models] in try await models.reranker(tenant: tenant) } : nil
        let profile = try await store.profile(user: user, tenant: tenant, now: now, timeZone: timeZone)
        async let reading = store.items(profile.inProgress.map(\.key), tenant: tenant)
        async let forYou = store.forYouCandidates(
            categories: profile.isEmpty ? nil : profile.topCategories(5), tenant: tenant, now: now)
        async let popular = cache.trending.value(for: tenant) { try await store.trendingCandidates(tenant: tenant, now: now) }
        async let prior = cache.tenantCTR.value(for: tenant) { try await store.tenantCTR(tenant: tenant) }
        async let sources = store.sourceCandidates(providers: profile.topProviders(5), tenant: tenant, now: now)
        // The same draws for the same user within the hour.
        var random = SeededRandom("\(tenant):\(user):\(Int(now.timeIntervalSince1970 / 3600))")
        let candidates = try await forYou
        let ranking = HomeRanking(
            weights: variant?.ranking ?? RankingWeights(), now: now, rules: try await tenantRules, reranker: try await reranker, timeZone: timeZone)
        let rate = try await prior
        let personal = ranking.forYou(profile, factors: try await factors, candidates: candidates, tenantCTR: rate, random: &random)
        // What was shown and the features it was ranked by: the reranker's training data.
        impressions.add(
            personal.items.compactMap { shown in
                shown.features.map { ImpressionStore.Impression(user: user, item: shown.item.key, shownAt: now, features: $0) }
            }, tenant: tenant)
        var sections = [
            ranking.continueReading(profile, items: try await reading),
            personal,
            ranking.trending(profile, candidates: try await popular),
            ranking.newFromSources(profile, candidates: try await sources),
        ]
        var assignment: HomeFeed.Assignment?
        if let experiment, let variant {
            if let order = variant.sectionOrder {
                sections.sort { (order.firstIndex(of: $0.name) ?? order.count) < (order.firstIndex(of: $1.name) ?? order.count) }
            }
            try await experiments.expose(experiment.id, user: user, variant: variant.name, tenant: tenant)
            assignment = .init(experimentId: experiment.id, variant: variant.name)
        }
        return HomeFeed(
            userId: user, sections: sections, ranking: ranking.reranker == nil ? "heuristic" : "learned", experiment: assignment, generatedAt: now)
    }
}
