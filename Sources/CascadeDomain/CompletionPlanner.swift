import Foundation

/// What the database holds that a batch of reports needs, loaded before planning.
public struct BatchSnapshot: Sendable {
    /// The reported jobs. Planning never reads their `input` (the service does not load it).
    public var jobs: [String: Job]
    /// Subscriptions by source model id (the service may load only active inference_complete ones).
    public var subscriptions: [String: [EventSubscription]]
    /// Target models by id, with at least their active versions.
    public var models: [String: Model]
    /// Recorded outcomes of jobs that already completed, by job id, in firing order.
    public var outcomes: [String: [SubscriptionOutcome]]

    public init(jobs: [String: Job] = [:], subscriptions: [String: [EventSubscription]] = [:],
                models: [String: Model] = [:], outcomes: [String: [SubscriptionOutcome]] = [:]) {
        self.jobs = jobs
        self.subscriptions = subscriptions
        self.models = models
        self.outcomes = outcomes
    }
}

/// A report as the planner receives it: validated, or refused with the bytes kept for the DLQ.
public enum PlannerInput: Sendable {
    case report(CompletionReport)
    case rejected(RawReport, ReportRejection)
}

/// A subscription outcome to record durably; a job's outcomes are kept in firing order.
public struct OutcomeRecord: Sendable, Equatable {
    public let sourceJobId: String
    public let outcome: SubscriptionOutcome
}

/// Everything one batch changes, to be written in one transaction. Every field is set by the
/// one designated initialiser (no defaults at the declarations), which `+` calls: a field
/// added later does not compile until both say what to do with it.
public struct BatchEffects: Sendable {
    /// Jobs completed by this batch, in their final state (one entry per job).
    public var completedJobs: [Job]
    public var createdJobs: [Job]
    public var outcomes: [OutcomeRecord]
    /// Result records, downstream requests and dead letters, in the order they were decided.
    public var outbox: [OutboxMessage]
    /// One result per input, in input order (for logs and tests).
    public var results: [ResultRecord]
    /// Originals of dead letters cut to fit, kept in the same transaction.
    public var parked: [ParkedMessage]
    /// The class of each dead letter written, for counting (the reasons themselves are unbounded).
    public var deadLetters: [ReportRejection.Kind]

    public init(completedJobs: [Job], createdJobs: [Job], outcomes: [OutcomeRecord], outbox: [OutboxMessage],
                results: [ResultRecord], parked: [ParkedMessage], deadLetters: [ReportRejection.Kind]) {
        self.completedJobs = completedJobs
        self.createdJobs = createdJobs
        self.outcomes = outcomes
        self.outbox = outbox
        self.results = results
        self.parked = parked
        self.deadLetters = deadLetters
    }

    public init() { self.init(completedJobs: [], createdJobs: [], outcomes: [], outbox: [], results: [], parked: [], deadLetters: []) }

    /// The effects of two batches applied one after the other (the one-at-a-time path).
    public static func + (a: BatchEffects, b: BatchEffects) -> BatchEffects {
        BatchEffects(completedJobs: a.completedJobs + b.completedJobs, createdJobs: a.createdJobs + b.createdJobs,
                     outcomes: a.outcomes + b.outcomes, outbox: a.outbox + b.outbox, results: a.results + b.results,
                     parked: a.parked + b.parked, deadLetters: a.deadLetters + b.deadLetters)
    }
}

public struct CompletionPlanner: Sendable {
    public var topics: TopicNames
    public var depthLimit: Int
    public var authorizer: any ReportAuthorizer
    /// The largest dead letter to publish (the report limit); larger ones are cut and parked.
    public var deadLetterSizeLimit: Int
    /// Names a redacted credential in a dead letter (the service passes SHA-256).
    public var credentialFingerprint: DeadLetter.CredentialFingerprint

    public init(topics: TopicNames = .defaults, depthLimit: Int = SubscriptionFiring.defaultDepthLimit,
                authorizer: any ReportAuthorizer = AllowAllAuthorizer(),
                deadLetterSizeLimit: Int = ReportLimits.defaults.maximumBytes,
                credentialFingerprint: @escaping DeadLetter.CredentialFingerprint = { _ in "unknown" }) {
        self.topics = topics
        self.depthLimit = depthLimit
        self.authorizer = authorizer
        self.deadLetterSizeLimit = deadLetterSizeLimit
        self.credentialFingerprint = credentialFingerprint
    }

    /// Applies the inputs in order, as if one at a time: a later report for a job sees what an
    /// earlier one in the same batch did.
    public func plan(_ inputs: [PlannerInput], snapshot: BatchSnapshot, now: Date,
                     newId: () -> UUID = UUID.init) -> BatchEffects {
        var state = PlanningState(snapshot: snapshot)
        var effects = BatchEffects()
        var completedIndex: [String: Int] = [:]

        for input in inputs {
            let result: ResultRecord
            switch input {
            case let .rejected(raw, rejection):
                let reason = DeadLetter.clipped(rejection.message, to: DeadLetter.reasonLimit)
                let (letter, original) = DeadLetter.message(raw, reason: reason, topic: topics.deadLetters,
                                                            sizeLimit: deadLetterSizeLimit, fingerprint: credentialFingerprint)
                effects.outbox.append(letter)
                effects.deadLetters.append(rejection.kind)
                if let original { effects.parked.append(original) }
                result = ResultRecord(code: 400, jobId: rejection.jobId, modelId: rejection.modelId,
                                      modelVersion: rejection.modelVersion, status: nil, triggeredEvents: [],
                                      duplicate: false, requestId: rejection.requestId, source: raw.source,
                                      message: reason)
                // Without a job id there is nobody to answer; the dead letter is the record.
                if rejection.jobId != nil { effects.outbox.append(result.outboxMessage(topic: topics.results)) }
                effects.results.append(result)
                continue

            case let .report(report):
                result = apply(report, state: &state, effects: &effects, completedIndex: &completedIndex, now: now, newId: newId)
            }
            effects.outbox.append(result.outboxMessage(topic: topics.results))
            effects.results.append(result)
        }
        return effects
    }

    private func apply(_ report: CompletionReport, state: inout PlanningState, effects: inout BatchEffects,
                       completedIndex: inout [String: Int], now: Date, newId: () -> UUID) -> ResultRecord {
        func rejection(_ code: Int, _ message: String) -> ResultRecord {
            ResultRecord(code: code, jobId: report.jobId, modelId: report.modelId, modelVersion: report.modelVersion,
                         status: report.status.rawValue, triggeredEvents: [], duplicate: false,
                         requestId: report.requestId, source: report.source, message: message)
        }
        func answer(_ job: Job, _ outcomes: [SubscriptionOutcome], duplicate: Bool) -> ResultRecord {
            ResultRecord(code: outcomes.contains(where: \.isFailure) ? 207 : 200, jobId: job.id, modelId: job.modelId,
                         modelVersion: job.modelVersion, status: job.status.rawValue, triggeredEvents: outcomes,
                         duplicate: duplicate, requestId: report.requestId, source: report.source, message: nil)
        }

        switch authorizer.authorize(report) {
        case .allowed: break
        case .unauthenticated(let message): return rejection(401, message)
        case .forbidden(let message): return rejection(403, message)
        }

        let job = state.job(report.jobId)
        switch JobTransition.decide(job: job, report: report) {
        case .notFound(let message):
            return rejection(404, message)
        case .conflict(let message):
            return rejection(409, message)
        case .duplicate:
            return answer(job!, state.outcomes(of: report.jobId), duplicate: true)
        case .complete:
            let completed = job!.completed(by: report, at: now)
            state.changedJobs[completed.id] = completed
            if let i = completedIndex[completed.id] {
                effects.completedJobs[i] = completed
            } else {
                completedIndex[completed.id] = effects.completedJobs.count
                effects.completedJobs.append(completed)
            }
            let firings = SubscriptionFiring.fire(
                source: completed, report: report, subscriptions: state.snapshot.subscriptions[completed.modelId] ?? [],
                models: state.snapshot.models, depthLimit: depthLimit, now: now,
                newJobId: { newId().lowercasedText })
            let outcomes = firings.map { $0.outcome }
            state.recordedOutcomes[completed.id] = outcomes
            for firing in firings {
                effects.outcomes.append(OutcomeRecord(sourceJobId: completed.id, outcome: firing.outcome))
                guard let created = firing.job else { continue }
                // Not added to the state: its id was minted just now, so no report in this
                // batch can name it (and the copy and hashing were a measurable share per report).
                effects.createdJobs.append(created)
                effects.outbox.append(DownstreamRequest.message(job: created, source: completed, subscription: firing.subscription,
                                                                eventId: newId(), topic: topics.requests))
            }
            return answer(completed, outcomes, duplicate: false)
        }
    }
}

/// The snapshot as the batch has changed it so far. The changes sit beside the snapshot, not in
/// a copy of it: copying its jobs on the first write cost a retain of every field of every job.
struct PlanningState {
    let snapshot: BatchSnapshot
    var changedJobs: [String: Job] = [:]
    var recordedOutcomes: [String: [SubscriptionOutcome]] = [:]

    func job(_ id: String) -> Job? { changedJobs[id] ?? snapshot.jobs[id] }
    func outcomes(of id: String) -> [SubscriptionOutcome] { recordedOutcomes[id] ?? snapshot.outcomes[id] ?? [] }
}
