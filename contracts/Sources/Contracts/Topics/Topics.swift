/// Every topic of the platform. Names follow `<owner>.<entity>.v<major>`.
public enum Topics {
    public static let authTenant = Topic(
        name: "auth.tenant.v1", owner: "auth", key: .entityID, partitions: 4, cleanupPolicy: .compact,
        eventTypes: [TenantEvent.created, TenantEvent.updated, TenantEvent.suspended, TenantEvent.reactivated]
    )
    public static let authUser = Topic(
        name: "auth.user.v1", owner: "auth", key: .entityID, partitions: 4, cleanupPolicy: .compact,
        eventTypes: [UserRegistered.type]
    )
    public static let authMembership = Topic(
        name: "auth.membership.v1", owner: "auth", key: .entityID, partitions: 4, cleanupPolicy: .compact,
        eventTypes: [MembershipEvent.added, MembershipEvent.roleChanged, MembershipEvent.removed]
    )
    /// A command topic: every service may send, notifications (its owner) consumes.
    public static let notificationsRequest = Topic(
        name: "notifications.request.v1", owner: "notifications", key: .tenantID, partitions: 4, cleanupPolicy: .delete,
        eventTypes: [NotificationRequest.type]
    )
    public static let notificationsDelivery = Topic(
        name: "notifications.delivery.v1", owner: "notifications", key: .entityID, partitions: 4, cleanupPolicy: .delete,
        eventTypes: [NotificationDelivery.type]
    )
    public static let tasksTask = Topic(
        name: "tasks.task.v1", owner: "tasks", key: .entityID, partitions: 4, cleanupPolicy: .compact,
        eventTypes: [TaskChanged.created, TaskChanged.updated, TaskChanged.completed, TaskChanged.reopened, TaskChanged.restored, TaskDeleted.type]
    )
    public static let tasksProject = Topic(
        name: "tasks.project.v1", owner: "tasks", key: .entityID, partitions: 4, cleanupPolicy: .compact,
        eventTypes: [ProjectChanged.created, ProjectChanged.updated, ProjectDeleted.type]
    )

    public static let photomlSession = Topic(
        name: "photoml.session.v1", owner: "photoml", key: .entityID, partitions: 4, cleanupPolicy: .compact,
        eventTypes: [PhotoSessionFinished.completed, PhotoSessionFinished.completedWithWarnings, PhotoSessionFinished.failed]
    )

    public static let campaignsCampaign = Topic(
        name: "campaigns.campaign.v1", owner: "campaigns", key: .entityID, partitions: 4, cleanupPolicy: .compact,
        eventTypes: [
            CampaignChanged.scheduled, CampaignChanged.started, CampaignChanged.paused, CampaignChanged.resumed, CampaignChanged.finished,
            CampaignChanged.cancelled,
        ]
    )

    public static let campaignsSuppression = Topic(
        name: "campaigns.suppression.v1", owner: "campaigns", key: .entityID, partitions: 4, cleanupPolicy: .compact,
        eventTypes: [SuppressionChanged.added, SuppressionChanged.removed]
    )

    public static let experienceInteraction = Topic(
        name: "experience.interaction.v1", owner: "experience", key: .entityID, partitions: 4, cleanupPolicy: .delete,
        eventTypes: [InteractionRecorded.type]
    )

    public static let services = ["gateway", "auth", "tasks", "experience", "search", "notifications", "campaigns", "photoml"]

    /// Domain topics plus one dead-letter topic per service.
    public static let all: [Topic] =
        [
            authTenant, authUser, authMembership, notificationsRequest, notificationsDelivery, tasksTask, tasksProject, photomlSession,
            campaignsCampaign, campaignsSuppression, experienceInteraction,
        ]
        + services.map(Topic.deadLetter(for:))

    public static func named(_ name: String) -> Topic? { all.first { $0.name == name } }
}

/// The payload type of every event type, for tools and tests that handle events generically.
public enum EventCatalog {
    public static let payloadTypes: [String: any EventPayload.Type] = [
        TenantEvent.created: TenantEvent.self,
        TenantEvent.updated: TenantEvent.self,
        TenantEvent.suspended: TenantEvent.self,
        TenantEvent.reactivated: TenantEvent.self,
        UserRegistered.type: UserRegistered.self,
        MembershipEvent.added: MembershipEvent.self,
        MembershipEvent.roleChanged: MembershipEvent.self,
        MembershipEvent.removed: MembershipEvent.self,
        NotificationRequest.type: NotificationRequest.self,
        NotificationDelivery.type: NotificationDelivery.self,
        TaskChanged.created: TaskChanged.self,
        TaskChanged.updated: TaskChanged.self,
        TaskChanged.completed: TaskChanged.self,
        TaskChanged.reopened: TaskChanged.self,
        TaskChanged.restored: TaskChanged.self,
        TaskDeleted.type: TaskDeleted.self,
        ProjectChanged.created: ProjectChanged.self,
        ProjectChanged.updated: ProjectChanged.self,
        ProjectDeleted.type: ProjectDeleted.self,
        PhotoSessionFinished.completed: PhotoSessionFinished.self,
        PhotoSessionFinished.completedWithWarnings: PhotoSessionFinished.self,
        PhotoSessionFinished.failed: PhotoSessionFinished.self,
        CampaignChanged.scheduled: CampaignChanged.self,
        CampaignChanged.started: CampaignChanged.self,
        CampaignChanged.paused: CampaignChanged.self,
        CampaignChanged.resumed: CampaignChanged.self,
        CampaignChanged.finished: CampaignChanged.self,
        CampaignChanged.cancelled: CampaignChanged.self,
        SuppressionChanged.added: SuppressionChanged.self,
        SuppressionChanged.removed: SuppressionChanged.self,
        InteractionRecorded.type: InteractionRecorded.self,
    ]
}
