import Foundation
import Hummingbird
import ServiceKit

/// `/v1/campaigns`: drafts, their launch, pause, resume and cancel, and how they go.
struct CampaignRoutes: RouteGroup {
    let store: CampaignStore
    let quotas: PlanQuotas

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let campaigns = router.group("v1/campaigns").add(middleware: AuthenticationMiddleware(verifier: verifier))
        campaigns.post { request, context in try await create(request, context) }
        campaigns.get { request, context in try await list(request, context) }
        campaigns.get(":id") { _, context in
            let identity = try context.requireIdentity()
            let campaign = try await CampaignProblems.mapErrors("campaign") {
                try await store.get(try context.pathID("campaign"), tenant: identity.tenantID)
            }
            return EditedResponse(headers: [.eTag: campaign.etag], response: campaign)
        }
        campaigns.patch(":id") { request, context in try await update(request, context) }
        campaigns.delete(":id") { _, context -> HTTPResponse.Status in
            let identity = try context.requireIdentity()
            try identity.requireWriter()
            let id = try context.pathID("campaign")
            try await CampaignProblems.mapErrors("campaign") { try await store.delete(id, tenant: identity.tenantID) }
            return .noContent
        }
        campaigns.post(":id/launch") { request, context in try await launch(request, context) }
        campaigns.post(":id/pause") { request, context in try await move(.pause, request, context) }
        campaigns.post(":id/resume") { request, context in try await move(.resume, request, context) }
        campaigns.post(":id/cancel") { request, context in try await move(.cancel, request, context) }
        campaigns.post(":id/winner") { request, context in try await winner(request, context) }
        campaigns.get(":id/status") { _, context in
            let identity = try context.requireIdentity()
            return try await CampaignProblems.mapErrors("campaign") {
                try await store.status(try context.pathID("campaign"), tenant: identity.tenantID)
            }
        }
    }

    func create(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<Campaign> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let input = try await request.decodeJSON(CampaignInput.self, context: context)
        var v = Validator()
        let name = CampaignRules.name(input.name, required: true, &v) ?? ""
        let (fromName, fromEmail) = CampaignRules.from(input.fromName, input.fromEmail, required: true, &v)
        let replyTo = input.replyTo.map { EmailAddress.normalised($0) }
        v.check(replyTo != .some(nil), "replyTo", "is not an email address")
        v.check(input.templateId != nil, "templateId", "is required")
        v.check(input.templateVersion.map { $0 >= 1 } ?? true, "templateVersion", "must be a version number")
        CampaignRules.audience(lists: input.listIds, segments: input.segmentIds, &v)
        CampaignRules.rate(input.ratePerSecond, &v)
        v.check(input.maxConsecutiveFailures.map { (1...10_000).contains($0) } ?? true, "maxConsecutiveFailures", "must be 1 to 10000")
        let data = SubscriberRules.attributes(input.data, &v)
        if let test = input.abTest { ABTest.validate(test, &v) }
        v.check(input.maxPerHour.map { $0 >= 1 } ?? true, "maxPerHour", "must be 1 or more")
        try v.finish()
        let now = Date()
        let draft = Campaign(
            id: .v7(), name: name, templateId: input.templateId ?? UUID(), templateVersion: input.templateVersion ?? 1, fromName: fromName ?? "",
            fromEmail: fromEmail ?? "", replyTo: replyTo ?? nil, listIds: Array(Set(input.listIds ?? [])),
            segmentIds: Array(Set(input.segmentIds ?? [])), data: data, state: .draft, scheduledAt: nil, timeZone: "UTC",
            ratePerSecond: input.ratePerSecond ?? 10, maxConsecutiveFailures: input.maxConsecutiveFailures ?? 20, pauseReason: nil, audience: nil,
            startedAt: nil, finishedAt: nil, abTest: input.abTest, maxPerHour: input.maxPerHour, version: 1, createdAt: now, updatedAt: now)
        let campaign = try await CampaignProblems.mapErrors("campaign") {
            try await store.create(draft, versionNamed: input.templateVersion != nil, tenant: identity.tenantID)
        }
        return EditedResponse(
            status: .created, headers: [.eTag: campaign.etag, .location: "/v1/campaigns/\(campaign.id.uuidString.lowercased())"], response: campaign)
    }

    func list(_ request: Request, _ context: ServiceRequestContext) async throws -> Page<Campaign> {
        let identity = try context.requireIdentity()
        let query = request.queryItems
        let page = try PageRequest(query)
        var v = Validator()
        let state = query["state"].map { Campaign.State(rawValue: $0) }
        v.check(state != .some(nil), "state", "must be draft, scheduled, running, paused, finished or cancelled")
        try v.finish()
        let found = try await store.list(
            tenant: identity.tenantID, state: state ?? nil, before: try page.decodedCursor(UUID.self), limit: page.limit + 1)
        return Page(fetched: found, limit: page.limit) { $0.id }
    }

    func update(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<Campaign> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let id = try context.pathID("campaign")
        let expected = try request.ifMatchVersion()
        let input = try await request.decodeJSON(CampaignInput.self, context: context)
        var v = Validator()
        let name = CampaignRules.name(input.name, required: false, &v)
        let (fromName, fromEmail) = CampaignRules.from(input.fromName, input.fromEmail, required: false, &v)
        let replyTo = input.replyTo.map { EmailAddress.normalised($0) }
        v.check(replyTo != .some(nil), "replyTo", "is not an email address")
        v.check(input.templateVersion.map { $0 >= 1 } ?? true, "templateVersion", "must be a version number")
        CampaignRules.audience(lists: input.listIds, segments: input.segmentIds, &v)
        CampaignRules.rate(input.ratePerSecond, &v)
        v.check(input.maxConsecutiveFailures.map { (1...10_000).contains($0) } ?? true, "maxConsecutiveFailures", "must be 1 to 10000")
        let data = input.data.map { SubscriberRules.attributes($0, &v) }
        if let test = input.abTest { ABTest.validate(test, &v) }
        v.check(input.maxPerHour.map { $0 >= 1 } ?? true, "maxPerHour", "must be 1 or more")
        try v.finish()
        let campaign = try await CampaignProblems.mapErrors("campaign") {
            try await store.update(id, tenant: identity.tenantID, expectedVersion: expected, versionNamed: input.templateVersion != nil) { current in
                var next = current
                if let name { next.name = name }
                if let template = input.templateId { next.templateId = template }
                if let version = input.templateVersion { next.templateVersion = version }
                if let fromName { next.fromName = fromName }
                if let fromEmail { next.fromEmail = fromEmail }
                if let replyTo { next.replyTo = replyTo }
                if let lists = input.listIds { next.listIds = Array(Set(lists)) }
                if let segments = input.segmentIds { next.segmentIds = Array(Set(segments)) }
                if let data { next.data = data }
                if let rate = input.ratePerSecond { next.ratePerSecond = rate }
                if let failures = input.maxConsecutiveFailures { next.maxConsecutiveFailures = failures }
                if let test = input.abTest { next.abTest = test }
                if let cap = input.maxPerHour { next.maxPerHour = cap }
                return next
            }
        }
        return EditedResponse(headers: [.eTag: campaign.etag], response: campaign)
    }

    /// Now (202, running) or at a time (202, scheduled), within the plan's monthly sends.
    func launch(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<Campaign> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let id = try context.pathID("campaign")
        let expected = try request.ifMatchVersion()
        let input = try await request.decodeOptionalJSON(LaunchInput.self, context: context) ?? LaunchInput()
        var v = Validator()
        if let zone = input.timeZone { v.check(TimeZone(identifier: zone) != nil, "timeZone", "must be an IANA time zone, e.g. Europe/Berlin") }
        if let at = input.at { v.check(at.timeIntervalSinceNow < 366 * 86400, "at", "must be within a year") }
        try v.finish()
        let scheduled = input.at.map { $0 > Date() } ?? false
        let campaign = try await CampaignProblems.mapErrors("campaign") {
            try await store.transition(
                id, scheduled ? .schedule : .start, tenant: identity.tenantID, expectedVersion: expected, at: input.at, timeZone: input.timeZone,
                monthlyQuota: quotas.monthlySends(tenant: identity.tenantID))
        }
        return EditedResponse(status: .accepted, headers: [.eTag: campaign.etag], response: campaign)
    }

    struct WinnerInput: Decodable, Sendable {
        /// The variant to send to the rest; by the test's metric when absent.
        var variant: String?
    }

    /// Ends the A/B test now: the named variant (or the best so far) goes to the held recipients.
    func winner(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<Campaign> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let id = try context.pathID("campaign")
        let input = try await request.decodeOptionalJSON(WinnerInput.self, context: context) ?? WinnerInput()
        let campaign = try await CampaignProblems.mapErrors("campaign") {
            try await store.pickWinner(id, named: input.variant, tenant: identity.tenantID)
        }
        return EditedResponse(headers: [.eTag: campaign.etag], response: campaign)
    }

    func move(_ transition: CampaignTransition, _ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<Campaign> {
        let identity = try context.requireIdentity()
        try identity.requireWriter()
        let id = try context.pathID("campaign")
        let expected = try request.ifMatchVersion()
        let campaign = try await CampaignProblems.mapErrors("campaign") {
            try await store.transition(id, transition, tenant: identity.tenantID, expectedVersion: expected)
        }
        return EditedResponse(headers: [.eTag: campaign.etag], response: campaign)
    }
}

extension Campaign: ResponseEncodable {}
extension CampaignStatus: ResponseEncodable {}
