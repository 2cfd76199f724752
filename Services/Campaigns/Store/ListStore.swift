import Foundation
import Jobs
import Persistence
import PostgresNIO
import ServiceKit

/// SQL for lists and their members.
struct ListStore: Sendable {
    let database: Database

    static let columns = """
        l.id, l.name, l.description, l.visibility, l.opt_in, l.version, l.created_at, l.updated_at,
        (SELECT COALESCE(jsonb_object_agg(c.status, c.n), '{}')::text
         FROM (SELECT m.status, count(*) AS n FROM campaigns.list_members m WHERE m.list_id = l.id GROUP BY m.status) c)
        """

    static func lists(_ rows: PostgresRowSequence) async throws -> [MailingList] {
        var found: [MailingList] = []
        for try await (id, name, description, visibility, optIn, version, created, updated, counts) in rows.decode(
            (UUID, String, String?, String, String, Int, Date, Date, String).self)
        {
            found.append(
                MailingList(
                    id: id, name: name, description: description, visibility: MailingList.Visibility(rawValue: visibility) ?? .private,
                    optIn: MailingList.OptIn(rawValue: optIn) ?? .single,
                    counts: (try? JSONDecoder().decode([String: Int].self, from: Data(counts.utf8))) ?? [:], version: version, createdAt: created,
                    updatedAt: updated))
        }
        return found
    }

    static func memberships(_ rows: PostgresRowSequence) async throws -> [ListMembership] {
        var found: [ListMembership] = []
        for try await (list, subscriber, email, name, status, created, updated) in rows.decode((UUID, UUID, String, String, String, Date, Date).self)
        {
            found.append(
                ListMembership(
                    listId: list, subscriberId: subscriber, email: email, name: name, status: ListMembership.Status(rawValue: status) ?? .unconfirmed,
                    createdAt: created, updatedAt: updated))
        }
        return found
    }

    func uniqueName<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch  where error.sqlState == SQLState.uniqueViolation {
            throw CampaignsError.duplicateName
        }
    }

    func create(_ list: MailingList, tenant: UUID) async throws -> MailingList {
        try await uniqueName {
            try await database.withTenant(tenant) { connection in
                try await connection.query(
                    """
                    INSERT INTO campaigns.lists (id, tenant_id, name, description, visibility, opt_in)
                    VALUES (\(list.id), \(tenant), \(list.name), \(list.description), \(list.visibility.rawValue), \(list.optIn.rawValue))
                    """, logger: database.logger)
                guard let created = try await fetch(list.id, lock: false, on: connection) else { throw CampaignsError.notFound }
                return created
            }
        }
    }

    func get(_ id: UUID, tenant: UUID) async throws -> MailingList {
        try await database.withTenant(tenant) { connection in
            guard let found = try await fetch(id, lock: false, on: connection) else { throw CampaignsError.notFound }
            return found
        }
    }

    func fetch(_ id: UUID, lock: Bool, on connection: PostgresConnection) async throws -> MailingList? {
        try await Self.lists(
            try await connection.query(
                "SELECT \(unescaped: Self.columns) FROM campaigns.lists l WHERE l.id = \(id) \(unescaped: lock ? "FOR UPDATE" : "")",
                logger: database.logger)
        ).first
    }

    func list(tenant: UUID, before cursor: UUID?, limit: Int) async throws -> [MailingList] {
        try await database.withTenant(tenant) { connection in
            try await Self.lists(
                try await connection.query(
                    """
                    SELECT \(unescaped: Self.columns) FROM campaigns.lists l
                    WHERE (\(cursor)::uuid IS NULL OR l.id < \(cursor)) ORDER BY l.id DESC LIMIT \(limit)
                    """, logger: database.logger))
        }
    }

    func update(_ id: UUID, tenant: UUID, expectedVersion: Int?, change: @Sendable (MailingList) -> MailingList) async throws -> MailingList {
        try await uniqueName {
            try await database.withTenant(tenant) { connection in
                guard let current = try await fetch(id, lock: true, on: connection) else { throw CampaignsError.notFound }
                if let expectedVersion, expectedVersion != current.version { throw CampaignsError.versionMismatch(current: current.version) }
                let next = change(current)
                if next == current { return current }
                try await connection.query(
                    """
                    UPDATE campaigns.lists SET name = \(next.name), description = \(next.description), visibility = \(next.visibility.rawValue),
                      opt_in = \(next.optIn.rawValue), version = version + 1, updated_at = now()
                    WHERE id = \(id)
                    """, logger: database.logger)
                guard let updated = try await fetch(id, lock: false, on: connection) else { throw CampaignsError.notFound }
                return updated
            }
        }
    }

    /// Deletes the list and its memberships; the subscribers stay.
    func delete(_ id: UUID, tenant: UUID, expectedVersion: Int?) async throws {
        try await database.withTenant(tenant) { connection in
            guard let current = try await fetch(id, lock: true, on: connection) else { throw CampaignsError.notFound }
            if let expectedVersion, expectedVersion != current.version { throw CampaignsError.versionMismatch(current: current.version) }
            try await connection.query("DELETE FROM campaigns.lists WHERE id = \(id)", logger: database.logger)
        }
    }

    /// Puts subscribers on lists. Without `status`: confirmed on a single opt-in list,
    /// unconfirmed on a double one. Someone who unsubscribed stays unsubscribed unless the
    /// status is given explicitly (an admin re-adding them with their consent).
    static func join(
        _ lists: [UUID], subscribers: [UUID], status: ListMembership.Status?, tenant: UUID, on connection: PostgresConnection, logger: Logger
    ) async throws {
        var known: [UUID: String] = [:]
        for try await (id, optIn) in try await connection.query(
            "SELECT id, opt_in FROM campaigns.lists WHERE id = ANY(\(lists))", logger: logger
        ).decode((UUID, String).self) {
            known[id] = optIn
        }
        let missing = lists.filter { known[$0] == nil }
        guard missing.isEmpty else { throw CampaignsError.listsMissing(missing) }
        var found: Set<UUID> = []
        for try await id in try await connection.query("SELECT id FROM campaigns.subscribers WHERE id = ANY(\(subscribers))", logger: logger)
            .decode(UUID.self)
        {
            found.insert(id)
        }
        let absent = subscribers.filter { !found.contains($0) }
        guard absent.isEmpty else { throw CampaignsError.subscribersMissing(absent) }
        for list in lists {
            let initial = status?.rawValue ?? (known[list] == "double" ? "unconfirmed" : "confirmed")
            var waiting: [UUID] = []
            for try await subscriber in try await connection.query(
                """
                INSERT INTO campaigns.list_members (tenant_id, list_id, subscriber_id, status)
                SELECT \(tenant), \(list), s, \(initial) FROM unnest(\(subscribers)::uuid[]) AS s
                ON CONFLICT (tenant_id, list_id, subscriber_id) DO UPDATE SET status = EXCLUDED.status, updated_at = now()
                WHERE \(status?.rawValue)::text IS NOT NULL AND list_members.status IS DISTINCT FROM EXCLUDED.status
                RETURNING subscriber_id, status
                """, logger: logger
            ).decode((UUID, String).self) where subscriber.1 == "unconfirmed" {
                waiting.append(subscriber.0)
            }
            try await Self.askToConfirm(waiting, list: list, tenant: tenant, on: connection)
        }
    }

    /// Double opt-in: each new unconfirmed member gets an email with a signed link to confirm.
    static func askToConfirm(_ subscribers: [UUID], list: UUID, tenant: UUID, on connection: PostgresConnection) async throws {
        guard !subscribers.isEmpty else { return }
        try await JobQueue(schema: "campaigns").enqueueMany(
            CampaignJobs.confirmation, subscribers.map { (tenant, ConfirmationArguments(subscriberId: $0, listId: list)) }, on: connection)
    }

    /// A member still to confirm (enabled): their address, name and the list's name.
    func awaitingConfirmation(_ subscriber: UUID, list: UUID, tenant: UUID) async throws -> (String, String, String)? {
        try await database.withTenant(tenant) { connection in
            for try await row in try await connection.query(
                """
                SELECT s.email, s.name, l.name FROM campaigns.list_members m
                JOIN campaigns.subscribers s ON s.id = m.subscriber_id JOIN campaigns.lists l ON l.id = m.list_id
                WHERE m.list_id = \(list) AND m.subscriber_id = \(subscriber) AND m.status = 'unconfirmed' AND s.status = 'enabled'
                """, logger: database.logger
            ).decode((String, String, String).self) {
                return row
            }
            return nil
        }
    }

    /// The member confirmed through their link; false when the link's membership is gone or
    /// was not waiting.
    func confirm(_ link: SignedLink) async throws -> Bool {
        try await database.withTenant(link.tenant) { connection in
            for try await _ in try await connection.query(
                """
                UPDATE campaigns.list_members SET status = 'confirmed', updated_at = now()
                WHERE list_id = \(link.campaign) AND subscriber_id = \(link.subscriber) AND status = 'unconfirmed' RETURNING 1
                """, logger: database.logger)
            {
                return true
            }
            return false
        }
    }

    func add(_ subscribers: [UUID], to list: UUID, status: ListMembership.Status?, tenant: UUID) async throws {
        try await database.withTenant(tenant) { connection in
            guard try await fetch(list, lock: false, on: connection) != nil else { throw CampaignsError.notFound }
            try await Self.join([list], subscribers: subscribers, status: status, tenant: tenant, on: connection, logger: database.logger)
        }
    }

    /// Takes the subscriber off the list (the membership goes; an unsubscribe keeps it as
    /// `unsubscribed` instead, see `setStatus`).
    func remove(_ subscriber: UUID, from list: UUID, tenant: UUID) async throws {
        try await database.withTenant(tenant) { connection in
            for try await _ in try await connection.query(
                "DELETE FROM campaigns.list_members WHERE list_id = \(list) AND subscriber_id = \(subscriber) RETURNING 1", logger: database.logger)
            {
                return
            }
            throw CampaignsError.notFound
        }
    }

    func setStatus(_ status: ListMembership.Status, subscriber: UUID, list: UUID, tenant: UUID) async throws -> ListMembership {
        try await database.withTenant(tenant) { connection in
            try await connection.query(
                """
                UPDATE campaigns.list_members SET status = \(status.rawValue), updated_at = now()
                WHERE list_id = \(list) AND subscriber_id = \(subscriber)
                """, logger: database.logger)
            guard let membership = try await member(subscriber, of: list, on: connection) else { throw CampaignsError.notFound }
            return membership
        }
    }

    func member(_ subscriber: UUID, of list: UUID, on connection: PostgresConnection) async throws -> ListMembership? {
        try await Self.memberships(
            try await connection.query(
                """
                SELECT m.list_id, m.subscriber_id, s.email, s.name, m.status, m.created_at, m.updated_at
                FROM campaigns.list_members m JOIN campaigns.subscribers s ON s.id = m.subscriber_id
                WHERE m.list_id = \(list) AND m.subscriber_id = \(subscriber)
                """, logger: database.logger)
        ).first
    }

    /// A list's members by subscriber id (cursor pages), optionally of one status.
    func members(of list: UUID, status: ListMembership.Status?, after cursor: UUID?, limit: Int, tenant: UUID) async throws -> [ListMembership] {
        try await database.withTenant(tenant) { connection in
            guard try await fetch(list, lock: false, on: connection) != nil else { throw CampaignsError.notFound }
            return try await Self.memberships(
                try await connection.query(
                    """
                    SELECT m.list_id, m.subscriber_id, s.email, s.name, m.status, m.created_at, m.updated_at
                    FROM campaigns.list_members m JOIN campaigns.subscribers s ON s.id = m.subscriber_id
                    WHERE m.list_id = \(list) AND (\(status?.rawValue)::text IS NULL OR m.status = \(status?.rawValue))
                      AND (\(cursor)::uuid IS NULL OR m.subscriber_id > \(cursor))
                    ORDER BY m.subscriber_id LIMIT \(limit)
                    """, logger: database.logger))
        }
    }
}
