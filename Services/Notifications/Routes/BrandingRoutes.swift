import Foundation
import Hummingbird
import ServiceKit

/// `/v1/admin/notification-branding` (owners, admins): the tenant's name, logo and colour on
/// the platform's emails, security emails included.
struct BrandingRoutes: RouteGroup {
    let store: BrandingStore

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let branding = router.group("v1/admin/notification-branding").add(middleware: AuthenticationMiddleware(verifier: verifier))
        branding.get { _, context -> Branding in
            let identity = try TemplateRoutes.admin(context)
            return try await store.get(tenant: identity.tenantID) ?? Branding()
        }
        branding.put { request, context -> Branding in
            let identity = try TemplateRoutes.admin(context)
            let input = try await request.decodeJSON(Branding.self, context: context)
            let problems = input.problems()
            guard problems.isEmpty else { throw Problem.validation(problems.map { .init(field: $0.0, message: $0.1) }) }
            try await store.save(input, tenant: identity.tenantID)
            return input
        }
        branding.delete { _, context -> HTTPResponse.Status in
            let identity = try TemplateRoutes.admin(context)
            guard try await store.delete(tenant: identity.tenantID) else { throw Problem.notFound("This tenant has no branding.") }
            return .noContent
        }
    }
}

extension Branding: ResponseEncodable {}
