import Foundation

/// What the auth stores refuse, in the domain's words. Routes/StoreMapping.swift says what
/// each means over HTTP.
enum AuthStoreError: Error, Equatable {
    case notFound
    case alreadyMember(email: String)
    case callerAlreadyMember
    case pendingInvitationLimit(plan: String, limit: Int)
    case invitationNotPending(status: String)
    case invitationUnusable
    case passwordRequired
    case memberLimit(plan: String, limit: Int)
    case apiClientLimit(plan: String, limit: Int)
    case slugTaken(String)
    case noFreeSlug
    case ownerRoleByOwnersOnly
    case lastOwner
}
