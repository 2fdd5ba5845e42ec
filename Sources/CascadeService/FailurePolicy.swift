import Kafka
import Postgres

/// What a failed piece of work leads to. Decided in one place for the batch workers and the
/// relay, so every error has a defined outcome.
enum FailureDisposition: Equatable {
    /// Transient (a lost connection, a serialization failure, a broker away): do the same work
    /// again after `after`. A lost PostgreSQL session resets itself on its next statement.
    case retry(after: Duration)
    /// The database refused the work's content (a value it will not store, a stored row that
    /// breaks an invariant): apply the batch's reports one at a time, dead-lettering the culprit.
    case isolate
    /// Nothing here can fix it (a bug, a schema the code does not know, rights missing): the
    /// member stops with exit code 70 so that its orchestrator restarts it and an operator
    /// looks. Nothing it failed on was marked, so nothing is lost.
    case fatal
}

/// Exponential backoff between retries, reset by a success.
struct Backoff {
    let initial: Duration
    let maximum: Duration
    private(set) var current: Duration

    init(initial: Duration, maximum: Duration) {
        self.initial = initial
        self.maximum = maximum
        current = initial
    }

    /// The wait before the next attempt; each call doubles the one after, up to `maximum`.
    mutating func next() -> Duration {
        defer { current = min(current * 2, maximum) }
        return current
    }

    mutating func reset() { current = initial }
}

enum FailurePolicy {
    enum Class: Equatable { case transient, refusedContent, fatal }

    static func classify(_ error: any Error) -> Class {
        switch error {
        case let transaction as PostgresTransactionError:
            return classify(transaction.cause)
        case let pg as PostgresError:
            if pg.isRetriable { return .transient }
            switch pg.kind {
            case .uniqueViolation, .foreignKeyViolation, .checkViolation, .notNullViolation, .invalidInput, .programLimitExceeded:
                return .refusedContent
            default:
                return .fatal
            }
        case let service as ServiceError:
            switch service {
            case .brokenInvariant: return .refusedContent
            case .brokenSharedRow, .missingRow: return .fatal
            }
        case let kafka as KafkaError:
            return kafka.isFatal ? .fatal : .transient
        default:
            return .fatal
        }
    }

    /// The disposition of `error` for work that can be split (`isolatable`: a batch of
    /// reports) or not (the relay's rounds, a single report's dead letter).
    static func disposition(of error: any Error, isolatable: Bool, backoff: inout Backoff) -> FailureDisposition {
        switch classify(error) {
        case .transient: .retry(after: backoff.next())
        case .refusedContent: isolatable ? .isolate : .fatal
        case .fatal: .fatal
        }
    }
}
