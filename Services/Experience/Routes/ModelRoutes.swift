import Foundation
import Hummingbird
import Jobs
import Persistence
import ServiceKit

/// `/v1/admin/experience/models`: the tenant's ALS model and learned reranker, and a training
/// of either on demand (otherwise nightly).
struct ModelRoutes: RouteGroup {
    let store: ModelStore

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let models = router.group("v1/admin/experience/models").add(middleware: AuthenticationMiddleware(verifier: verifier))
        models.get { _, context in
            let identity = try context.requireIdentity()
            try identity.requireTenantAdmin()
            return Page(items: try await store.models(tenant: identity.tenantID), nextCursor: nil)
        }
        models.post(":kind/trainings") { _, context in
            let identity = try context.requireIdentity()
            try identity.requireTenantAdmin()
            guard let kind = context.parameters.get("kind").flatMap(ModelCard.Kind.init(rawValue:)) else {
                throw Problem.notFound("No such model: there are " + ModelCard.Kind.allCases.map(\.rawValue).joined(separator: " and ") + ".")
            }
            guard let job = try await store.requestTraining(kind, tenant: identity.tenantID) else {
                throw Problem.conflict("A training of this tenant's \(kind.rawValue) model is already queued or running.")
            }
            return EditedResponse(
                status: .accepted, headers: [.location: "/v1/admin/experience/jobs/\(job)"], response: TrainingRequested(jobId: job))
        }
    }

    struct TrainingRequested: ResponseEncodable, Sendable {
        var jobId: Int64
    }
}

extension ModelCard: ResponseEncodable {}
