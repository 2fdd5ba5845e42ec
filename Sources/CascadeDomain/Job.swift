import Foundation

public struct Job: Sendable, Equatable {
    public var id: String
    public var modelId: String
    public var modelVersion: String
    public var type: JobType
    public var status: JobStatus
    public var input: JSONValue?
    public var output: JSONValue?
    public var error: JSONValue?
    public var createdAt: Date
    public var startedAt: Date?
    public var completedAt: Date?
    public var parentJobId: String?
    public var subscriptionId: UUID?
    public var cascadeDepth: Int

    public init(id: String, modelId: String, modelVersion: String, type: JobType, status: JobStatus,
                input: JSONValue? = nil, output: JSONValue? = nil, error: JSONValue? = nil, createdAt: Date,
                startedAt: Date? = nil, completedAt: Date? = nil, parentJobId: String? = nil,
                subscriptionId: UUID? = nil, cascadeDepth: Int = 0) {
        self.id = id
        self.modelId = modelId
        self.modelVersion = modelVersion
        self.type = type
        self.status = status
        self.input = input
        self.output = output
        self.error = error
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.parentJobId = parentJobId
        self.subscriptionId = subscriptionId
        self.cascadeDepth = cascadeDepth
    }
}
