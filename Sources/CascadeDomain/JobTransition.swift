/// What a completion report does to its job.
public enum JobTransition: Sendable, Equatable {
    /// The job was pending or started: it takes the report's status, output and error.
    case complete
    /// The job already ended exactly this way: nothing changes and nothing fires again.
    case duplicate
    /// The job already ended differently (409); it is left as it was.
    case conflict(String)
    /// No such job under that model and version (404); nothing is touched.
    case notFound(String)

    public static func decide(job: Job?, report: CompletionReport) -> JobTransition {
        guard let job, job.modelId == report.modelId, job.modelVersion == report.modelVersion else {
            return .notFound("job \(report.jobId) not found under model \(report.modelId) version \(report.modelVersion)")
        }
        guard job.status.isTerminal else { return .complete }
        let same = job.status == report.status.jobStatus && job.output == report.output && job.error == report.storedError
        if same { return .duplicate }
        var difference: [String] = []
        if job.status != report.status.jobStatus { difference.append("status \(job.status.rawValue), reported \(report.status.rawValue)") }
        if job.output != report.output { difference.append("a different output") }
        if job.error != report.storedError { difference.append("a different error") }
        return .conflict("job \(report.jobId) already completed with \(job.status.rawValue); this report differs "
            + "(\(difference.joined(separator: ", "))) and was not applied")
    }
}

extension Job {
    /// The job after a report completes it.
    public func completed(by report: CompletionReport, at now: Date) -> Job {
        var job = self
        job.status = report.status.jobStatus
        job.output = report.output
        job.error = report.storedError
        job.completedAt = now
        if job.startedAt == nil { job.startedAt = now }
        return job
    }
}

import Foundation
