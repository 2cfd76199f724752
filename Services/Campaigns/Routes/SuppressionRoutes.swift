import Foundation
import Hummingbird
import NIOCore
import ServiceKit

/// `/v1/campaigns/suppressions` (the addresses no campaign mails) and
/// `/v1/campaigns/bounces` (where the tenant's mail server hands in bounce and complaint
/// reports, as an MTA pipes them: the raw message as the body).
struct SuppressionRoutes: RouteGroup {
    let store: SuppressionStore

    struct SuppressionInput: Decodable, Sendable {
        var email: String
        var detail: String?
    }

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let suppressions = router.group("v1/campaigns/suppressions").add(middleware: AuthenticationMiddleware(verifier: verifier))
        suppressions.get { request, context in
            let identity = try context.requireIdentity()
            let page = try PageRequest(request.queryItems)
            let found = try await store.list(tenant: identity.tenantID, after: try page.decodedCursor(String.self), limit: page.limit + 1)
            return Page(fetched: found, limit: page.limit) { $0.email }
        }
        suppressions.post { request, context in
            let identity = try context.requireIdentity()
            try identity.requireWriter()
            let input = try await request.decodeJSON(SuppressionInput.self, context: context)
            var v = Validator()
            let email = SubscriberRules.email(input.email, &v)
            let detail = input.detail.flatMap { v.text($0, "detail", max: 500, required: false) }
            try v.finish()
            let added = try await store.add(email, reason: "manual", detail: detail, tenant: identity.tenantID)
            return EditedResponse(
                status: added ? .created : .ok,
                response: SuppressionStore.Suppression(email: email, reason: "manual", detail: detail, createdAt: Date()))
        }
        suppressions.delete(":email") { _, context -> HTTPResponse.Status in
            let identity = try context.requireIdentity()
            try identity.requireWriter()
            guard let raw = context.parameters.get("email"), let email = EmailAddress.normalised(raw.removingPercentEncoding ?? raw) else {
                throw Problem.notFound("No such suppression.")
            }
            try await CampaignProblems.mapErrors("suppression") { try await store.remove(email, tenant: identity.tenantID) }
            return .noContent
        }
        router.group("v1/campaigns/bounces").add(middleware: AuthenticationMiddleware(verifier: verifier))
            .post { request, context in try await bounces(request, context) }
    }

    struct BounceResult: ResponseEncodable {
        var reports: Int
        var applied: SuppressionStore.Applied
    }

    func bounces(_ request: Request, _ context: ServiceRequestContext) async throws -> BounceResult {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: DeliveryReport.maxBytes)
        } catch {
            throw Problem(status: .contentTooLarge, detail: "A report may have at most \(DeliveryReport.maxBytes) bytes.")
        }
        let reports = DeliveryReport.read(String(decoding: Array(buffer: body), as: UTF8.self))
        guard !reports.isEmpty else {
            throw Problem.validation([
                .init(field: "body", message: "is neither a delivery status notification (RFC 3464) nor an abuse report (RFC 5965)")
            ])
        }
        let applied = try await store.apply(reports, tenant: identity.tenantID)
        return BounceResult(reports: reports.count, applied: applied)
    }
}

extension SuppressionStore.Suppression: ResponseEncodable {}
