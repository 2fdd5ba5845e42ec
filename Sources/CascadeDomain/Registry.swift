import Foundation

public enum JobType: String, Sendable, CaseIterable { case inference, training }

public enum JobStatus: String, Sendable, CaseIterable {
    case pending, started, success, failure
    public var isTerminal: Bool { self == .success || self == .failure }
}

public enum VersionStatus: String, Sendable, CaseIterable { case pending, training, active, failed }

public struct ModelVersion: Sendable, Equatable {
    public let version: String
    public let status: VersionStatus
    public let createdAt: Date
    public init(version: String, status: VersionStatus, createdAt: Date) {
        self.version = version
        self.status = status
        self.createdAt = createdAt
    }
}

/// A model and what it can do. `versions` may be partial: the service loads only what firing
/// needs (the active ones).
public struct Model: Sendable, Equatable {
    public let id: String
    public let actions: Set<JobType>
    public let versions: [ModelVersion]
    public init(id: String, actions: Set<JobType>, versions: [ModelVersion]) {
        self.id = id
        self.actions = actions
        self.versions = versions
    }

    /// The version new jobs go to: the most recently created active one (ties by name).
    public var newestActiveVersion: ModelVersion? {
        versions.filter { $0.status == .active }.max {
            ($0.createdAt, $0.version) < ($1.createdAt, $1.version)
        }
    }
}

public enum TriggerEvent: String, Sendable, CaseIterable {
    case inferenceComplete = "inference_complete"
    case trainingComplete = "training_complete"
}

public enum InputSource: String, Sendable, CaseIterable {
    case stored
    case triggerOutput = "trigger_output"
}

public enum SubscriptionStatus: String, Sendable, CaseIterable { case active, paused, stale }

public struct EventSubscription: Sendable, Equatable {
    public let id: UUID
    public let sourceModelId: String
    public let triggerEvent: TriggerEvent
    public let targetModelId: String
    public let targetAction: JobType
    public let inputSource: InputSource
    public let input: JSONValue?
    public let label: String?
    public let status: SubscriptionStatus
    public let createdAt: Date
    public let updatedAt: Date

    public init(id: UUID, sourceModelId: String, triggerEvent: TriggerEvent, targetModelId: String,
                targetAction: JobType, inputSource: InputSource, input: JSONValue?, label: String?,
                status: SubscriptionStatus, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.sourceModelId = sourceModelId
        self.triggerEvent = triggerEvent
        self.targetModelId = targetModelId
        self.targetAction = targetAction
        self.inputSource = inputSource
        self.input = input
        self.label = label
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
