import Foundation
import Hummingbird
import Jobs
import Persistence
import ServiceKit

/// `/v1/admin/experience/models`: the tenant's collaborative model, and a training on demand
/// (otherwise nightly).
struct ModelRoutes: RouteGroup {
    let store: ModelStore

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let models = router.group("v1/admin/experience/models").add(middleware: AuthenticationMiddleware(verifier: verifier))
        models.get { _, context in
            let identity = try context.requireIdentity()
            try identity.requireTenantAdmin()
            let model = try await store.model(tenant: identity.tenantID)
            return Page(items: model.map { [$0] } ?? [], nextCursor: nil)
        }
        models.post("als/trainings") { _, context in
            let identity = try context.requireIdentity()
            try identity.requireTenantAdmin()
            guard let job = try await store.requestTraining(tenant: identity.tenantID) else {
                throw Problem.conflict("A training of this tenant's model is already queued or running.")
            }
            return EditedResponse(
                status: .accepted, headers: [.location: "/v1/admin/experience/jobs/\(job)"], response: TrainingRequested(jobId: job))
        }
    }

    struct TrainingRequested: ResponseEncodable, Sendable {
        var jobId: Int64
    }
}

extension CollaborativeModel: ResponseEncodable {}
