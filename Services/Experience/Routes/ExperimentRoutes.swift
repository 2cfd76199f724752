import Foundation
import Hummingbird
import ServiceKit

/// `/v1/admin/experiments`: A/B tests of the home feed (tenant admins).
struct ExperimentRoutes: RouteGroup {
    let store: ExperimentStore
    let cache: HomeCache

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let experiments = router.group("v1/admin/experiments").add(middleware: AuthenticationMiddleware(verifier: verifier))
        experiments.post { request, context in
            let identity = try admin(context)
            let input = try await request.decodeJSON(ExperimentInput.self, context: context)
            var v = Validator()
            let name = v.text(input.name, "name", max: 200) ?? ""
            let description = v.text(input.description, "description", max: 2000, required: false) ?? ""
            let variants = ExperimentRules.variants(input.variants, &v)
            try v.finish()
            let draft = Experiment(
                id: .v7(), name: name, description: description, variants: variants, state: .draft, winner: nil, version: 1, createdAt: Date(),
                startedAt: nil, stoppedAt: nil)
            let created = try await ExperienceProblems.mapErrors("experiment") { try await store.create(draft, tenant: identity.tenantID) }
            return EditedResponse(
                status: .created, headers: [.eTag: created.etag, .location: "/v1/admin/experiments/\(created.id.uuidString.lowercased())"],
                response: created)
        }
        experiments.get { _, context in
            let identity = try admin(context)
            return Page(items: try await store.list(tenant: identity.tenantID), nextCursor: nil)
        }
        experiments.get(":id") { _, context in
            let identity = try admin(context)
            let found = try await ExperienceProblems.mapErrors("experiment") {
                try await store.get(try context.pathID("experiment"), tenant: identity.tenantID)
            }
            return EditedResponse(headers: [.eTag: found.etag], response: found)
        }
        experiments.delete(":id") { _, context -> HTTPResponse.Status in
            let identity = try admin(context)
            try await ExperienceProblems.mapErrors("experiment") {
                try await store.delete(try context.pathID("experiment"), tenant: identity.tenantID)
            }
            return .noContent
        }
        experiments.post(":id/start") { _, context in
            let identity = try admin(context)
            let started = try await ExperienceProblems.mapErrors("experiment") {
                try await store.move(try context.pathID("experiment"), to: .running, tenant: identity.tenantID)
            }
            cache.forget(tenant: identity.tenantID)
            return started
        }
        experiments.post(":id/stop") { request, context in
            let identity = try admin(context)
            let input = try await request.decodeOptionalJSON(StopInput.self, context: context)
            let stopped = try await ExperienceProblems.mapErrors("experiment") {
                try await store.move(try context.pathID("experiment"), to: .stopped, winner: input?.winner, tenant: identity.tenantID)
            }
            cache.forget(tenant: identity.tenantID)
            return stopped
        }
        experiments.get(":id/results") { _, context in
            let identity = try admin(context)
            return try await ExperienceProblems.mapErrors("experiment") {
                let experiment = try await store.get(try context.pathID("experiment"), tenant: identity.tenantID)
                return try await store.results(experiment, tenant: identity.tenantID)
            }
        }
    }

    func admin(_ context: ServiceRequestContext) throws -> Identity {
        let identity = try context.requireIdentity()
        try identity.requireTenantAdmin()
        return identity
    }

    struct StopInput: Decodable, Sendable {
        var winner: String?
    }
}

extension Experiment: ResponseEncodable {}
extension ExperimentResults: ResponseEncodable {}
