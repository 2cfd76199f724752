import Contracts
import Foundation
import ServiceKit

/// Jobs as CSV lines (RFC 4180, formula-like cells defused: errors hold text from outside).
enum JobCSV {
    static let header = "id,kind,queue,state,priority,attempt,max_attempts,run_at,created_at,attempted_at,finished_at,last_error\r\n"

    static func row(_ job: JobAdminStore.JobView) -> String {
        let cells = [
            String(job.id), job.kind, job.queue, job.state, String(job.priority), String(job.attempt), String(job.maxAttempts),
            RFC3339.string(from: job.runAt), RFC3339.string(from: job.createdAt), job.attemptedAt.map(RFC3339.string) ?? "",
            job.finishedAt.map(RFC3339.string) ?? "", job.errors.last?.error ?? "",
        ]
        return cells.map(cell).joined(separator: ",") + "\r\n"
    }

    static func cell(_ text: String) -> String { CSVCell.escape(text) }
}
