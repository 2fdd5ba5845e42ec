import CascadeDomain
import Foundation
import XCTest

let t0 = Date(timeIntervalSince1970: 1_800_000_000)
let source = ReportSource(topic: "pie.job-completions", partition: 2, offset: 41)

func raw(_ json: String, key: String? = nil, headers: [(String, String?)] = []) -> RawReport {
    RawReport(key: key.map { Array($0.utf8) }, value: Array(json.utf8),
              headers: headers.map { ($0.0, $0.1.map { Array($0.utf8) }) }, source: source)
}

func report(job: String = "job-1", model: String = "A", version: String = "v1", status: CompletionStatus = .success,
            output: JSONValue? = ["uri": "s3://out/1"], error: JSONValue? = nil, auth: String? = nil,
            requestId: String? = nil) -> CompletionReport {
    CompletionReport(modelId: model, modelVersion: version, jobId: job, status: status, output: output, error: error,
                     requestId: requestId, authorization: auth, source: source)
}

func job(_ id: String = "job-1", model: String = "A", version: String = "v1", type: JobType = .inference,
         status: JobStatus = .started, depth: Int = 0) -> Job {
    Job(id: id, modelId: model, modelVersion: version, type: type, status: status, input: ["prompt": "hi"],
        createdAt: t0, startedAt: status == .pending ? nil : t0, cascadeDepth: depth)
}

func model(_ id: String, actions: Set<JobType> = [.inference, .training],
           versions: [(String, VersionStatus, TimeInterval)] = [("v1", .active, 0)]) -> Model {
    Model(id: id, actions: actions, versions: versions.map {
        ModelVersion(version: $0.0, status: $0.1, createdAt: t0.addingTimeInterval($0.2))
    })
}

nonisolated(unsafe) var subscriptionCounter = 0  // tests in one class run serially
func subscription(from sourceModel: String = "A", to target: String, action: JobType = .inference,
                  input: InputSource = .triggerOutput, stored: JSONValue? = nil, status: SubscriptionStatus = .active,
                  trigger: TriggerEvent = .inferenceComplete, createdOffset: TimeInterval? = nil) -> EventSubscription {
    subscriptionCounter += 1
    return EventSubscription(
        id: UUID(), sourceModelId: sourceModel, triggerEvent: trigger, targetModelId: target, targetAction: action,
        inputSource: input, input: stored, label: "to \(target)", status: status,
        createdAt: t0.addingTimeInterval(createdOffset ?? Double(subscriptionCounter)), updatedAt: t0)
}

/// Deterministic ids for planner tests.
final class IdSequence {
    private var next = 0
    func callAsFunction() -> UUID {
        next += 1
        return UUID(uuidString: String(format: "00000000-0000-0000-0000-%012d", next))!
    }
}

func decodeJSON(_ bytes: [UInt8]?) throws -> JSONValue { try JSONParser.parse(try XCTUnwrap(bytes, "a null value")) }
