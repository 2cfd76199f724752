import Foundation

/// What the inventory stores refuse; the routes map each to one problem.
enum InventoryError: Error, Equatable {
    case notFound
    case versionMismatch(current: Int)
    /// The parent named is not this tenant's, or not of the kind the child needs.
    case parentMissing
    case parentKind(expected: LocationKind)
    case duplicateName
    case duplicateCode
    case duplicateSKU
    case hasChildren(Int)
    case hasStock(Int)
    /// Stock stands at a location, not at a warehouse or area.
    case notALocation
    case locationMissing
    case productMissing
    case insufficient(available: Int)
    case tooLarge(limit: Int)
    case sameLocation
    /// Photo sessions of the place or product keep it.
    case hasPhotoSessions(Int)
    /// A session takes more photos only while pending, and only of its own location.
    case sessionClosed
    case sessionElsewhere
    /// Only a completed session with a product and an estimate can be accepted, once.
    case sessionNotAcceptable(String)
    case sessionAccepted
    /// Only a failed session is retried.
    case sessionNotFailed(String)
    /// A session has no estimate until it completes.
    case sessionNotCompleted(String)
    /// An upload completes once, before it expires.
    case uploadClosed(String)
}
