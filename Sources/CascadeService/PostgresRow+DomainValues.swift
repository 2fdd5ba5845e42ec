import CascadeDomain
import Foundation
import Postgres

/// Reading domain values out of rows; a stored value that breaks an invariant is an error
/// naming the column, never a silent default.
extension PostgresRow {
    func jsonValue(_ column: String) throws -> JSONValue? {
        guard let text = try optionalString(column) else { return nil }
        do { return try JSONParser.parse(text) } catch { throw ServiceError.brokenInvariant("column '\(column)': \(error)") }
    }

    func enumValue<E: RawRepresentable>(_ column: String, as: E.Type) throws -> E where E.RawValue == String {
        let text = try string(column)
        guard let value = E(rawValue: text) else { throw ServiceError.brokenInvariant("column '\(column)': unknown value '\(text)'") }
        return value
    }

    func job() throws -> Job {
        Job(id: try string("job_id"), modelId: try string("model_id"), modelVersion: try string("model_version"),
            type: try enumValue("job_type", as: JobType.self), status: try enumValue("status", as: JobStatus.self),
            input: try jsonValue("input"), output: try jsonValue("output"), error: try jsonValue("error"),
            createdAt: try date("created_at"), startedAt: try optionalDate("started_at"),
            completedAt: try optionalDate("completed_at"), parentJobId: try optionalString("parent_job_id"),
            subscriptionId: try optionalUUID("subscription_id"), cascadeDepth: Int(try int("cascade_depth")))
    }

    func subscription() throws -> EventSubscription {
        EventSubscription(
            id: try uuid("id"), sourceModelId: try string("source_model_id"),
            triggerEvent: try enumValue("trigger_event", as: TriggerEvent.self), targetModelId: try string("target_model_id"),
            targetAction: try enumValue("target_action", as: JobType.self),
            inputSource: try enumValue("input_source", as: InputSource.self), input: try jsonValue("input"),
            label: try optionalString("label"), status: try enumValue("status", as: SubscriptionStatus.self),
            createdAt: try date("created_at"), updatedAt: try date("updated_at"))
    }

    /// A completed job's `subscription_outcomes`, in firing order; nil when it fired nothing.
    func outcomes() throws -> [SubscriptionOutcome]? {
        guard let json = try jsonValue("subscription_outcomes") else { return nil }
        guard case .array(let items) = json else { throw ServiceError.brokenInvariant("column 'subscription_outcomes': not an array") }
        return try items.map { item in
            guard let outcome = SubscriptionOutcome(json: item) else {
                throw ServiceError.brokenInvariant("column 'subscription_outcomes': not an outcome: \(item)")
            }
            return outcome
        }
    }
}

enum Columns {
    static let job = "\(jobWithoutInput), input"
    static let jobWithoutInput = """
        job_id, model_id, model_version, job_type, status, output, error, created_at, started_at,
        completed_at, parent_job_id, subscription_id, cascade_depth
        """
    static let subscription = """
        id, source_model_id, trigger_event, target_model_id, target_action, input_source, input, label, status,
        created_at, updated_at
        """
}

/// Parses the `{actions}` text array PostgreSQL returns for `text[]` of simple words.
func parseWordArray(_ text: String) -> [String] {
    text.trimmingCharacters(in: CharacterSet(charactersIn: "{}")).split(separator: ",").map(String.init)
}
