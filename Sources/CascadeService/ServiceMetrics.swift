import CascadeDomain
import Kafka
import Metrics
import Postgres

/// Every metric `cascade consume` exports on `/metrics` (docs/OPERATIONS.md describes each).
/// Counters and histograms are updated once per batch by the thread that did the work;
/// gauges of the poll loop's state are read at scrape time from `ServiceTelemetry`.
/// Labels take only small fixed sets of values: codes, reason classes, partitions.
public final class ServiceMetrics: Sendable {
    let registry = MetricsRegistry()

    let reports: Family<Counter>
    let duplicates: Counter
    let deadLetters: Family<Counter>
    let subscriptionsFired: Family<Counter>
    let keyMismatches: Counter
    let batchReports: Histogram
    let batchDuration: Histogram
    let reportAgeAtCommit: Histogram
    let rebalances: Family<Counter>
    let databaseErrors: Family<Counter>
    let kafkaErrors: Family<Counter>
    let workerUtilisation: Gauge

    /// The result codes a report can get; each is exported from the start, at 0.
    static let codes = [200, 207, 400, 401, 403, 404, 409]

    public init() {
        let r = registry
        r.collect("cascade_build_info", help: "Cascade's version and the librdkafka it runs on; always 1.", type: .gauge) {
            [Sample(labels: [("version", CascadeBuild.version), ("librdkafka", KafkaLibrary.versionString)], 1)]
        }
        reports = r.counter("cascade_reports_total", help: "Reports applied, by the code of their answer.", labelNames: ["code"])
        duplicates = r.counter("cascade_duplicate_reports_total",
                               help: "Reports for a job already in that final state (answered 200 with duplicate=true).")
        deadLetters = r.counter("cascade_dead_letters_total", help: "Reports sent to the dead-letter topic, by reason class.",
                                labelNames: ["reason"])
        subscriptionsFired = r.counter("cascade_subscriptions_fired_total",
                                       help: "inference_complete subscriptions fired, by outcome.", labelNames: ["outcome"])
        keyMismatches = r.counter("cascade_key_mismatches_total", help: "Reports whose message key was not their job_id.")
        batchReports = r.histogram("cascade_batch_reports", help: "Reports per applied batch (one transaction).",
                                   buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000])
        batchDuration = r.histogram("cascade_batch_duration_seconds", help: "Time to apply a batch, retries included.",
                                    // Up to the stall timeout's range: a batch waiting on a lock for a minute must not read as 10 s.
                                    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300])
        reportAgeAtCommit = r.histogram("cascade_report_age_at_commit_seconds",
                                        help: "From a report's Kafka timestamp to the commit of its batch.",
                                        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300])
        rebalances = r.counter("cascade_rebalances_total", help: "Partition assignment changes, by kind (assigned, revoked, lost).",
                               labelNames: ["kind"])
        databaseErrors = r.counter("cascade_database_errors_total", help: "PostgreSQL errors met by workers and the relay, by class.",
                                   labelNames: ["class"])
        kafkaErrors = r.counter("cascade_kafka_errors_total", help: "Errors librdkafka reported, by its error name.",
                                labelNames: ["code"])
        workerUtilisation = r.gauge("cascade_worker_utilisation",
                                    help: "Share of the workers' time spent applying batches over the last status interval, 0 to 1.")
        for code in Self.codes { _ = reports.labels(String(code)) }
        for kind in ReportRejection.Kind.allCases { _ = deadLetters.labels(kind.rawValue) }
        for outcome in ["triggered", "error"] { _ = subscriptionsFired.labels(outcome) }
        for kind in ["assigned", "revoked", "lost"] { _ = rebalances.labels(kind) }
        for errorClass in DatabaseErrorClass.allCases { _ = databaseErrors.labels(errorClass.rawValue) }
    }

    /// Counts what a committed batch decided.
    func record(_ effects: BatchEffects, keyMismatches mismatches: Int) {
        var byCode: [Int: Int] = [:]
        var duplicateCount = 0, triggered = 0, failed = 0
        for result in effects.results {
            byCode[result.code, default: 0] += 1
            if result.duplicate { duplicateCount += 1 }
            for outcome in result.triggeredEvents { if outcome.isFailure { failed += 1 } else { triggered += 1 } }
        }
        for (code, n) in byCode { reports.labels(String(code)).increment(by: n) }
        if duplicateCount > 0 { duplicates.increment(by: duplicateCount) }
        if triggered > 0 { subscriptionsFired.labels("triggered").increment(by: triggered) }
        if failed > 0 { subscriptionsFired.labels("error").increment(by: failed) }
        for kind in effects.deadLetters { deadLetters.labels(kind.rawValue).increment() }
        if mismatches > 0 { keyMismatches.increment(by: mismatches) }
    }

    /// A batch's size, how long it took, and how old its reports were when it committed.
    func recordBatch(_ batch: [KafkaMessage], duration: Duration, committedAtMs: Int64) {
        batchReports.observe(batch.count)
        batchDuration.observe(duration.seconds)
        for message in batch {
            guard let ts = message.timestampMs else { continue }
            reportAgeAtCommit.observe(Double(max(0, committedAtMs - ts)) / 1000)
        }
    }

    /// Counts PostgreSQL's errors; others (a broker's, a bug's) are counted elsewhere or logged.
    func recordDatabaseError(_ error: any Error) {
        guard error is PostgresError || error is PostgresTransactionError else { return }
        databaseErrors.labels(DatabaseErrorClass(error).rawValue).increment()
    }

    func recordKafkaError(_ error: KafkaError) {
        // librdkafka's error names are a fixed set (RD_KAFKA_RESP_ERR_*), so the label is bounded.
        kafkaErrors.labels(error.name).increment()
    }

    func recordRebalance(_ event: RebalanceEvent) {
        // A cooperative rebalance calls back with an empty list on members whose partitions did
        // not change: not a change of assignment.
        guard !event.partitions.isEmpty else { return }
        switch event {
        case .assigned: rebalances.labels("assigned").increment()
        case .revoked: rebalances.labels("revoked").increment()
        case .lost: rebalances.labels("lost").increment()
        }
    }

    /// Bearer tokens refused (401 and 403), by reason: `expired`, `bad_signature`,
    /// `insufficient_scope`, … (TokenRejection.reason, a fixed set).
    func countRejections(of authorizer: JWTAuthorizer) {
        registry.collect("cascade_auth_rejections_total", help: "Bearer tokens refused (401, 403), by reason.", type: .counter) {
            [weak authorizer] in
            (authorizer?.rejectionCounts ?? [:]).sorted { $0.key < $1.key }.map { Sample(labels: [("reason", $0.key)], Double($0.value)) }
        }
    }

    /// The text `/metrics` serves.
    public func render() -> String { registry.render() }
}

/// The classes `cascade_database_errors_total` counts, from FailurePolicy's view of an error.
enum DatabaseErrorClass: String, CaseIterable {
    case connectionLost = "connection_lost"
    case transient
    case refusedContent = "refused_content"
    case fatal

    init(_ error: any Error) {
        let cause = (error as? PostgresTransactionError)?.cause ?? error
        if (cause as? PostgresError)?.kind == .connectionLost { self = .connectionLost; return }
        switch FailurePolicy.classify(error) {
        case .transient: self = .transient
        case .refusedContent: self = .refusedContent
        case .fatal: self = .fatal
        }
    }
}
