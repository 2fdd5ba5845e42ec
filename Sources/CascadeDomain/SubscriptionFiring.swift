import Foundation

/// What became of one subscription when its source job completed.
public enum SubscriptionOutcome: Sendable, Equatable {
    case triggered(subscriptionId: UUID, jobId: String)
    case failed(subscriptionId: UUID, error: String)

    public var subscriptionId: UUID {
        switch self {
        case .triggered(let id, _), .failed(let id, _): id
        }
    }

    public var isFailure: Bool { if case .failed = self { true } else { false } }
}

/// One subscription fired: its outcome and, when it triggered, the job it created.
public struct Firing: Sendable, Equatable {
    public let subscription: EventSubscription
    public let outcome: SubscriptionOutcome
    public let job: Job?
}

public enum SubscriptionFiring {
    /// The default loop guard: a chain longer than this stops with an error on the last link.
    public static let defaultDepthLimit = 8

    /// Subscriptions that fire for a completed job, in creation order. Only successful inference
    /// jobs fire, and only active `inference_complete` subscriptions on the job's model.
    public static func eligible(_ subscriptions: [EventSubscription], for job: Job) -> [EventSubscription] {
        guard job.type == .inference, job.status == .success else { return [] }
        return subscriptions
            .filter { $0.sourceModelId == job.modelId && $0.triggerEvent == .inferenceComplete && $0.status == .active }
            .sorted { ($0.createdAt, $0.id.uuidString) < ($1.createdAt, $1.id.uuidString) }
    }

    /// Fires every eligible subscription of `source` (already completed by `report`).
    public static func fire(source: Job, report: CompletionReport, subscriptions: [EventSubscription],
                            models: [String: Model], depthLimit: Int, now: Date,
                            newJobId: () -> String) -> [Firing] {
        eligible(subscriptions, for: source).map { subscription in
            switch plan(subscription, source: source, report: report, models: models, depthLimit: depthLimit) {
            case .failure(let reason):
                return Firing(subscription: subscription,
                              outcome: .failed(subscriptionId: subscription.id, error: reason.message), job: nil)
            case .success(let target):
                let job = Job(id: newJobId(), modelId: target.modelId, modelVersion: target.version,
                              type: subscription.targetAction, status: .pending, input: target.input,
                              createdAt: now, parentJobId: source.id, subscriptionId: subscription.id,
                              cascadeDepth: source.cascadeDepth + 1)
                return Firing(subscription: subscription,
                              outcome: .triggered(subscriptionId: subscription.id, jobId: job.id), job: job)
            }
        }
    }

    struct Target {
        let modelId: String
        let version: String
        let input: JSONValue
    }

    struct Refusal: Error {
        let message: String
    }

    static func plan(_ subscription: EventSubscription, source: Job, report: CompletionReport,
                     models: [String: Model], depthLimit: Int) -> Result<Target, Refusal> {
        let targetId = subscription.targetModelId
        guard let model = models[targetId] else {
            return .failure(Refusal(message: "target model \(targetId) does not exist"))
        }
        guard let version = model.newestActiveVersion else {
            return .failure(Refusal(message: "target model \(targetId) has no active version"))
        }
        guard model.actions.contains(subscription.targetAction) else {
            let supported = model.actions.map(\.rawValue).sorted().joined(separator: ", ")
            return .failure(Refusal(message: "target model \(targetId) does not support \(subscription.targetAction.rawValue)"
                + " (it supports: \(supported.isEmpty ? "nothing" : supported))"))
        }
        let input: JSONValue
        switch subscription.inputSource {
        case .triggerOutput:
            guard let output = report.output else {
                return .failure(Refusal(message: "subscription takes trigger_output but the report has no output"))
            }
            input = output
        case .stored:
            guard let stored = subscription.input else {
                return .failure(Refusal(message: "subscription takes stored input but has none stored"))
            }
            input = stored
        }
        let depth = source.cascadeDepth + 1
        guard depth <= depthLimit else {
            return .failure(Refusal(message: "cascade depth limit reached: the new job would be at depth \(depth), "
                + "over the limit of \(depthLimit) (a subscription loop?)"))
        }
        return .success(Target(modelId: targetId, version: version.version, input: input))
    }
}
