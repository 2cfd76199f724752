import Foundation

/// What the campaigns stores refuse; Routes/CampaignProblems.swift maps each to one problem.
enum CampaignsError: Error, Equatable {
    case notFound
    case versionMismatch(current: Int)
    case duplicateEmail
    case duplicateName
    /// Lists or subscribers named in the input that are not the tenant's.
    case listsMissing([UUID])
    case subscribersMissing([UUID])
    case segment(SegmentSyntaxError)
    case template([TemplateProblem])
    case templateVersionMissing(Int)
    case quota(String)
    /// Something still refers to it (a partial a template includes).
    case inUse(String)
    /// The campaign's state does not allow this (what, the state).
    case illegalTransition(String, String)
    /// A field the store found wrong (it needed the database to tell).
    case invalid(String, String)
}
