import Foundation
import Hummingbird
import ServiceKit

/// `/v1/experience/digest/preferences`: the signed-in user's daily digest settings (an API
/// client names the user with `?userId=`); the answer says when the next digest is due.
struct DigestRoutes: RouteGroup {
    let store: DigestStore

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        addDigests(to: router, verifier: verifier)
        let preferences = router.group("v1/experience/digest/preferences").add(
            middleware: AuthenticationMiddleware(verifier: verifier, clients: ClientAccess.experience))
        preferences.get { request, context in
            let (identity, user) = try whose(request, context)
            let found = try await store.preferences(user: user, tenant: identity.tenantID)
            return EditedResponse(headers: [.eTag: found.etag], response: found)
        }
        preferences.put { request, context in
            let (identity, user) = try whose(request, context)
            let expected = try request.ifMatchVersion()
            let input = try await request.decodeJSON(DigestPreferencesInput.self, context: context)
            var v = Validator()
            let draft = input.preferences(now: Date(), &v)
            try v.finish()
            let saved = try await ExperienceProblems.mapErrors("digest preferences") {
                try await store.replace(with: draft, user: user, expectedVersion: expected, tenant: identity.tenantID)
            }
            return EditedResponse(headers: [.eTag: saved.etag], response: saved)
        }
    }

    /// `GET /v1/experience/digests/{id}`: a digest as it was sent ("view in browser"), for its
    /// user, an API client, or a tenant admin; anyone else: 404.
    func addDigests(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let digests = router.group("v1/experience/digests").add(
            middleware: AuthenticationMiddleware(verifier: verifier, clients: ClientAccess.experience))
        digests.get(":id") { _, context in
            let identity = try context.requireIdentity()
            let digest = try await ExperienceProblems.mapErrors("digest") {
                try await store.digest(try context.pathID("digest"), tenant: identity.tenantID)
            }
            guard identity.actsForEveryone || digest.userId == identity.subject else {
                throw ExperienceProblems.problem(.notFound, "digest")
            }
            return digest
        }
    }

    func whose(_ request: Request, _ context: ServiceRequestContext) throws -> (Identity, String) {
        let identity = try context.requireIdentity()
        return (identity, try identity.userKey(named: request.queryItems["userId"]))
    }
}

extension DigestPreferences: ResponseEncodable {}

extension Digest: ResponseEncodable {}
