/// Where a report came from, echoed in its result record and dead letter.
public struct ReportSource: Sendable, Equatable {
    public let topic: String
    public let partition: Int32
    public let offset: Int64
    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }
}

public enum CompletionStatus: String, Sendable, CaseIterable {
    case success, failure
    public var jobStatus: JobStatus { self == .success ? .success : .failure }
}

/// A validated completion report: the Kafka form of
/// `POST /v2/models/{model_id}/versions/{version}/jobs/{job_id}/complete`.
public struct CompletionReport: Sendable, Equatable {
    public let modelId: String
    public let modelVersion: String
    public let jobId: String
    public let status: CompletionStatus
    /// Always an object when present.
    public let output: JSONValue?
    /// Always an object when present; stored only for failures.
    public let error: JSONValue?
    public let requestId: String?
    public let authorization: String?
    public let source: ReportSource

    public init(modelId: String, modelVersion: String, jobId: String, status: CompletionStatus,
                output: JSONValue? = nil, error: JSONValue? = nil, requestId: String? = nil,
                authorization: String? = nil, source: ReportSource) {
        self.modelId = modelId
        self.modelVersion = modelVersion
        self.jobId = jobId
        self.status = status
        self.output = output
        self.error = error
        self.requestId = requestId
        self.authorization = authorization
        self.source = source
    }

    /// What the job stores as its error: only failures carry one.
    public var storedError: JSONValue? { status == .failure ? error : nil }
}
