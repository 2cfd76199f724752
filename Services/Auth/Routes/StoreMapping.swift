import Hummingbird
import ServiceKit

/// How the auth stores' values and refusals go out over HTTP.
extension AuthStoreError: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .notFound: Problem.notFound()
        case .alreadyMember(let email): Problem.conflict("\(email) is already a member of this tenant.")
        case .callerAlreadyMember: Problem.conflict("You are already a member of this tenant.")
        case .pendingInvitationLimit(let plan, let limit):
            Problem.conflict("The \(plan) plan allows \(limit) pending invitations; revoke some first.")
        case .invitationNotPending(let status): Problem.conflict("The invitation is \(status); only pending ones can be revoked.")
        case .invitationUnusable: Problem.badRequest("The invitation is invalid, used, revoked or expired.")
        case .passwordRequired: Problem.validation([.init(field: "password", message: "is required for a new account")])
        case .memberLimit(let plan, let limit): Problem.conflict("The \(plan) plan allows \(limit) members.")
        case .apiClientLimit(let plan, let limit): Problem.conflict("The \(plan) plan allows \(limit) API clients; revoke one first.")
        case .slugTaken(let slug): Problem.conflict("The slug \(slug) is taken.")
        case .noFreeSlug: Problem.conflict("Could not find a free slug for this tenant name; choose another name.")
        case .ownerRoleByOwnersOnly: Problem.forbidden("Only owners can grant or take away the owner role.")
        case .lastOwner: Problem.conflict("A tenant must keep at least one owner; make someone else owner first.")
        }
    }
}

extension InvitationRecord: ResponseEncodable {}
extension APIClientRecord: ResponseEncodable {}
extension TenantDetails: ResponseEncodable {}
extension MemberRecord: ResponseEncodable {}
