import Foundation
import Hummingbird
import ServiceKit

/// `/v1/admin/photoml/models`: the detection models this replica runs, from their cards.
struct ModelAdminRoutes: RouteGroup {
    let models: [ModelCard]

    static let admins: Set<String> = ["owner", "admin"]

    struct ModelList: ResponseEncodable, Sendable {
        var items: [ModelCard]
    }

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let admin = router.group("v1/admin/photoml/models").add(middleware: AuthenticationMiddleware(verifier: verifier))
        admin.get { _, context -> ModelList in
            try context.requireIdentity().require(anyOf: Self.admins)
            return ModelList(items: models)
        }
    }
}
