import Foundation
import Logging

/// An error whose description is written for the people who read the job list (tenant
/// admins in the console): it is stored as the job's error as it is.
public protocol JobReportable: Error, CustomStringConvertible {}

/// What a failed attempt stores: a reportable error's own words; for anything else (a
/// database error names tables, constraints, sometimes values) a fixed sentence with a
/// reference, and the whole error goes to the log under that reference.
enum JobErrorMessage {
    static func stored(_ error: any Error, job: Int64, kind: String, logger: Logger) -> String {
        if let reportable = error as? any JobReportable { return reportable.description }
        let reference = String(UUID().uuidString.prefix(8)).lowercased()
        logger.error(
            "job failed with an internal error",
            metadata: ["job_id": "\(job)", "kind": "\(kind)", "ref": "\(reference)", "error": "\(String(reflecting: error))"])
        return "internal error (ref \(reference)); the service's log has the details"
    }
}
