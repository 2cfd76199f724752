import Crypto
import Foundation
import Jobs
import Mail
import Messaging
import Persistence

struct DeliverArguments: Codable, Sendable {
    var campaignId: UUID
}

struct WinnerArguments: Codable, Sendable {
    var campaignId: UUID
}

struct ScheduledStart: Codable, Sendable {
    var campaignId: UUID
    var at: Date
}

/// The campaigns service's background work: delivering campaigns a chunk of recipients
/// per job (so tenants take turns, and a plan's rate holds), and starting scheduled ones.
struct CampaignJobs: ServiceJobs {
    let delivery: CampaignDelivery
    let campaigns: CampaignStore
    let imports: ImportStore
    let confirmations: ConfirmationMail
    let tenants: TenantDirectory

    static let deliver = JobKind<DeliverArguments>("campaigns.deliver", queue: "mail", maxAttempts: 50, timeout: .seconds(600))
    static let startScheduled = JobKind<ScheduledStart>("campaigns.start-scheduled", maxAttempts: 10, timeout: .seconds(600))
    static let confirmation = JobKind<ConfirmationArguments>("campaigns.confirmation", queue: "mail", maxAttempts: 10, timeout: .seconds(90))
    static let verifySender = JobKind<SenderArguments>("campaigns.verify-sender", queue: "mail", maxAttempts: 10, timeout: .seconds(90))
    static let pickWinner = JobKind<WinnerArguments>("campaigns.pick-winner", maxAttempts: 10, timeout: .seconds(120))
    /// A chunk per transaction; a retry resumes after the last one committed.
    static let importSubscribers = JobKind<ImportArguments>("campaigns.import", maxAttempts: 10, timeout: .seconds(3600))
    /// Fails an import whose upload never completed (due an upload window after it began).
    static let abandonImport = JobKind<ImportArguments>("campaigns.import-abandon", maxAttempts: 10, timeout: .seconds(60))

    var registry: JobRegistry {
        var registry = JobRegistry()
        var deliver = Self.deliver
        let (tenants, chunk) = (self.tenants, Double(delivery.chunk))
        // A chunk starts only within the tenant's plan rate, counted in messages.
        deliver.tenantRate = { tenant in tenants.entry(tenant).plan.limits.campaignEmailsPerSecond / chunk }
        let delivery = self.delivery
        registry.register(deliver) { arguments, context in try await delivery.deliver(arguments.campaignId, context: context) }
        let campaigns = self.campaigns
        registry.register(Self.startScheduled) { arguments, context in
            let campaign: Campaign
            do {
                campaign = try await campaigns.get(arguments.campaignId, tenant: context.tenantID)
            } catch CampaignsError.notFound {
                return  // deleted since
            }
            // Rescheduled or cancelled since: this job is stale.
            guard campaign.state == .scheduled, let at = campaign.scheduledAt, abs(at.timeIntervalSince(arguments.at)) < 0.001 else { return }
            _ = try await campaigns.transition(
                arguments.campaignId, .start, tenant: context.tenantID,
                monthlyQuota: tenants.entry(context.tenantID).plan.limits.campaignEmailsPerMonth)
        }
        registry.register(Self.pickWinner) { arguments, context in
            do {
                _ = try await campaigns.pickWinner(arguments.campaignId, named: nil, tenant: context.tenantID)
            } catch CampaignsError.illegalTransition, CampaignsError.notFound {
                // Picked by hand meanwhile, cancelled or deleted: nothing to do.
            }
        }
        let confirmations = self.confirmations
        registry.register(Self.confirmation) { arguments, context in try await confirmations.send(arguments, tenant: context.tenantID) }
        registry.register(Self.verifySender) { arguments, context in try await confirmations.verifySender(arguments, tenant: context.tenantID) }
        let imports = self.imports
        registry.register(Self.importSubscribers) { arguments, context in
            let quota = tenants.entry(context.tenantID).plan.limits.maxSubscribers
            while try await imports.step(arguments.importId, quota: quota, tenant: context.tenantID) {}
        }
        registry.register(Self.abandonImport) { arguments, context in
            try await imports.abandon(arguments.importId, reason: "the upload did not finish", tenant: context.tenantID)
        }
        return registry
    }

    var configuration: JobWorker.Configuration {
        var configuration = JobWorker.Configuration(queues: ["default": 2, "mail": 4])
        configuration.lease = .seconds(60)
        return configuration
    }
}

/// Sends one chunk of a running campaign: claims the recipients, renders the pinned
/// version for each, sends at the campaign's pace with a few in flight, and records every
/// outcome as it comes. Between messages it notices a pause or a cancel and gives the rest
/// of its chunk back.
struct CampaignDelivery: Sendable {
    let sends: SendStore
    let mailer: SMTPMailer
    let pacer: CampaignPacer
    let linkSecret: SymmetricKey
    let publicURL: String
    var concurrency = 8
    var chunk = 100
    /// Tries per recipient before the send is failed.
    var maxAttempts = 3

    enum Outcome: Sendable { case sent, bounced, retry, paused }

    func deliver(_ campaignID: UUID, context: JobContext) async throws {
        let tenant = context.tenantID
        guard let (campaign, versions, partials, signer) = try await sends.campaign(campaignID, tenant: tenant), campaign.state == .running else {
            return
        }
        let compiled = versions.mapValues { CompiledVersion($0, partials: partials) }
        var limit = chunk
        if let cap = campaign.maxPerHour {
            let (room, frees) = try await sends.hourlyRoom(campaignID, cap: cap, tenant: tenant)
            guard room > 0 else {
                // The window is full: a chunk comes back when its oldest send leaves it.
                try await later(campaignID, at: frees ?? Date().addingTimeInterval(60), tenant: tenant)
                return
            }
            limit = min(chunk, room)
        }
        let recipients = try await sends.claim(campaignID, limit: limit, tenant: tenant)
        var outcomes: [UUID: Outcome] = [:]
        try await withThrowingTaskGroup(of: (UUID, Outcome).self) { group in
            var inFlight = 0
            var stopped = false
            var lastCheck = ContinuousClock.now
            for (index, recipient) in recipients.enumerated() {
                if inFlight >= concurrency, let (id, outcome) = try await group.next() {
                    inFlight -= 1
                    outcomes[id] = outcome
                    if outcome == .paused { stopped = true }
                }
                // A pause or cancel by hand is seen within half a second, whatever the rate.
                if !stopped, index > 0, ContinuousClock.now - lastCheck > .milliseconds(500) {
                    lastCheck = ContinuousClock.now
                    if !(try await sends.running(campaignID, tenant: tenant)) { stopped = true }
                }
                if stopped { break }
                try await pacer.wait(campaignID, ratePerSecond: campaign.ratePerSecond)
                guard let version = compiled[recipient.variant ?? ""] ?? compiled[""] else { break }
                group.addTask {
                    (recipient.subscriberID, try await send(recipient, of: campaign, compiled: version, signer: signer, tenant: tenant))
                }
                inFlight += 1
            }
            for try await (id, outcome) in group { outcomes[id] = outcome }
        }
        let untried = recipients.map(\.subscriberID).filter { outcomes[$0] == nil }
        try await sends.release(campaignID, subscribers: untried, tenant: tenant)
        // Recipients to try again need a chunk to take them; a pause leaves them for resume.
        if outcomes.values.contains(.retry), try await sends.running(campaignID, tenant: tenant) {
            try await later(campaignID, at: Date().addingTimeInterval(30), tenant: tenant)
        }
        _ = try await sends.finishIfDone(campaignID, tenant: tenant)
    }

    /// Another chunk of the campaign, due at `date`.
    func later(_ campaignID: UUID, at date: Date, tenant: UUID) async throws {
        _ = try await sends.database.withTenant(tenant) { connection in
            try await JobQueue(schema: "campaigns").enqueue(
                CampaignJobs.deliver, DeliverArguments(campaignId: campaignID), tenant: tenant, options: .init(runAt: date), on: connection)
        }
    }

    func send(
        _ recipient: SendStore.Recipient, of campaign: Campaign, compiled: CompiledVersion, signer: DKIMSigner?, tenant: UUID
    ) async throws -> Outcome {
        let unsubscribe = link(.unsubscribe, campaign: campaign.id, subscriber: recipient.subscriberID, tenant: tenant)
        let context = TemplateRendering.context(
            email: recipient.email, name: recipient.name, attributes: recipient.attributes, data: campaign.data,
            links: [
                "unsubscribeUrl": unsubscribe,
                "preferencesUrl": link(.preferences, campaign: campaign.id, subscriber: recipient.subscriberID, tenant: tenant),
            ])
        var rendered = compiled.render(context)
        rendered.html = LinkTracking.rewrite(
            rendered.html, pixel: link(.open, campaign: campaign.id, subscriber: recipient.subscriberID, tenant: tenant),
            click: { url in
                link(.click, campaign: campaign.id, subscriber: recipient.subscriberID, tenant: tenant, bound: url) + "?u="
                    + (url.addingPercentEncoding(withAllowedCharacters: Self.queryValue) ?? "")
            })
        var message = CampaignMessage.make(campaign: campaign, tenant: tenant, recipient: recipient, rendered: rendered, unsubscribeURL: unsubscribe)
        message.signer = signer
        do {
            try await mailer.send(message)
        } catch SMTPFailure.rejected(let code, let reason) {
            try await sends.bounced(
                campaign.id, subscriber: recipient.subscriberID, email: recipient.email, reason: "\(code) \(reason)", tenant: tenant)
            return .bounced
        } catch {
            let paused = try await sends.failed(
                campaign.id, subscriber: recipient.subscriberID, reason: "\(error)", maxAttempts: maxAttempts, tenant: tenant)
            return paused ? .paused : .retry
        }
        try await sends.sent(campaign.id, subscriber: recipient.subscriberID, messageID: message.messageID, tenant: tenant)
        return .sent
    }

    /// What may stand unescaped in a query value.
    static let queryValue = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))

    func link(_ purpose: SignedLink.Purpose, campaign: UUID, subscriber: UUID, tenant: UUID, bound: String = "") -> String {
        let token = SignedLink(purpose: purpose, tenant: tenant, campaign: campaign, subscriber: subscriber).token(secret: linkSecret, bound: bound)
        let path =
            switch purpose {
            case .unsubscribe: "unsubscribe"
            case .open: "open"
            case .click: "click"
            case .confirm: "confirm"
            case .preferences: "preferences"
            case .verifySender: "verify-sender"
            }
        return publicURL.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/v1/campaigns/t/\(path)/\(token)"
    }
}
