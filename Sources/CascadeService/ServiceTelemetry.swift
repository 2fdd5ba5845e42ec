import Kafka
import Metrics
import Synchronization

/// What the running service knows about itself, for `/metrics`, `/healthz`, `/readyz` and
/// the status line. Written by the threads that learn each fact (the poll loop about once a
/// second, the dependency probe, the runtime); read by the HTTP thread, which never calls
/// into Kafka or PostgreSQL, so a scrape costs the pipeline nothing but a few locks.
public final class ServiceTelemetry: Sendable {
    public let metrics: ServiceMetrics
    private let health: Mutex<ServiceHealth>
    private let loop = Mutex(LoopSnapshot())
    private let outbox = Mutex<OutboxStats?>(nil)

    /// What the poll loop publishes at each liveness tick.
    struct LoopSnapshot: Sendable {
        var lags: [PartitionLag] = []
        var assigned = 0
        var pending = 0
        var fetchPaused = false
    }

    struct OutboxStats: Sendable, Equatable {
        var rows: Int64
        var messages: Int64
        var oldestAgeSeconds: Double
    }

    init(metrics: ServiceMetrics, health settings: ServiceHealth.Settings, relay: OutboxRelay?) {
        self.metrics = metrics
        health = Mutex(ServiceHealth(settings: settings, now: .now))
        registerGauges(metrics.registry, relay: relay)  // its closures hold `self` weakly: no cycle through the registry
    }

    // MARK: written by the service

    func loopTurned(joined: Bool, oldestWorkerProgress: ContinuousClock.Instant?, snapshot: LoopSnapshot) {
        health.withLock { $0.loopTurned(at: .now, joined: joined, oldestWorkerProgress: oldestWorkerProgress) }
        loop.withLock { $0 = snapshot }
    }

    func fetchPaused(_ paused: Bool) { loop.withLock { $0.fetchPaused = paused } }

    func reached(_ dependency: ServiceHealth.Dependency) { health.withLock { $0.reached(dependency, at: .now) } }


    func outboxStats(_ stats: OutboxStats) { outbox.withLock { $0 = stats } }

    func beginStopping() { health.withLock { $0.beginStopping() } }

    // MARK: read by probes, scrapes and the status line

    public func liveness() -> ServiceHealth.Verdict { health.withLock { $0.liveness(now: .now) } }

    public func readiness() -> ServiceHealth.Verdict { health.withLock { $0.readiness(now: .now) } }

    func unreachable(_ dependency: ServiceHealth.Dependency) -> Duration? {
        health.withLock { $0.unreachable(dependency, now: .now) }
    }

    var lags: [PartitionLag] { loop.withLock { $0.lags } }

    var isFetchPaused: Bool { loop.withLock { $0.fetchPaused } }

    var currentOutboxStats: OutboxStats? { outbox.withLock { $0 } }

    private func registerGauges(_ r: MetricsRegistry, relay: OutboxRelay?) {
        func perPartition(_ value: @escaping @Sendable (PartitionLag) -> Double?) -> @Sendable () -> [Sample] {
            { [weak self] in
                (self?.lags ?? []).compactMap { lag in
                    value(lag).map { Sample(labels: [("topic", lag.topicPartition.topic), ("partition", String(lag.topicPartition.partition))], $0) }
                }
            }
        }
        r.collect("cascade_consumer_lag_messages", help: "Log-end offset minus the group's committed offset, per owned partition.",
                  type: .gauge, perPartition { Double($0.messages) })
        r.collect("cascade_consumer_lag_seconds",
                  help: "Age of the oldest report not yet applied, per owned partition; 0 when caught up.",
                  type: .gauge, perPartition { $0.seconds })
        r.collect("cascade_consumer_committed_offset", help: "The group's committed offset, per owned partition.",
                  type: .gauge, perPartition { $0.committed.map(Double.init) })
        r.collect("cascade_consumer_log_end_offset", help: "The partition's high watermark as last fetched, per owned partition.",
                  type: .gauge, perPartition { Double($0.logEnd) })
        r.collect("cascade_assigned_partitions", help: "Partitions this member owns.", type: .gauge) { [weak self] in
            [Sample(Double(self?.loop.withLock { $0.assigned } ?? 0))]
        }
        r.collect("cascade_fetch_paused", help: "1 while fetching is paused because the workers' queues are full.", type: .gauge) { [weak self] in
            [Sample(self?.isFetchPaused == true ? 1 : 0)]
        }
        r.collect("cascade_pending_reports", help: "Reports polled and waiting for a worker.", type: .gauge) { [weak self] in
            [Sample(Double(self?.loop.withLock { $0.pending } ?? 0))]
        }
        r.collect("cascade_outbox_rows", help: "Outbox rows (one per committed batch) not yet published, as last probed.", type: .gauge) { [weak self] in
            self?.currentOutboxStats.map { [Sample(Double($0.rows))] } ?? []
        }
        r.collect("cascade_outbox_messages", help: "Messages in the outbox rows not yet published, as last probed.", type: .gauge) { [weak self] in
            self?.currentOutboxStats.map { [Sample(Double($0.messages))] } ?? []
        }
        r.collect("cascade_outbox_oldest_age_seconds", help: "Age of the oldest outbox row, as last probed; 0 when empty.", type: .gauge) { [weak self] in
            self?.currentOutboxStats.map { [Sample($0.oldestAgeSeconds)] } ?? []
        }
        r.collect("cascade_deliveries_total", help: "Outbox messages the relay handed to Kafka, by result.", type: .counter) { [weak relay] in
            guard let relay else { return [] }  // held weakly: the relay holds the metrics
            return [Sample(labels: [("result", "published")], Double(relay.publishedCount)),
                    Sample(labels: [("result", "failed")], Double(relay.failedDeliveryCount)),
                    Sample(labels: [("result", "parked")], Double(relay.parkedCount))]
        }
        r.collect("cascade_outbox_relay_catching_up", help: "1 while the relay publishes the outbox in row order after a delivery failure or a full hand-off queue.",
                  type: .gauge) { [weak relay] in
            relay.map { [Sample($0.isCatchingUp ? 1 : 0)] } ?? []
        }
        r.collect("cascade_dependency_reachable", help: "1 when the dependency answered within the last few seconds.",
                  type: .gauge) { [weak self] in
            ServiceHealth.Dependency.allCases.map { d in
                Sample(labels: [("dependency", d.rawValue)], self?.unreachable(d) == nil ? 1 : 0)
            }
        }
        r.collect("cascade_ready", help: "1 when /readyz answers 200.", type: .gauge) { [weak self] in
            [Sample(self?.readiness().healthy == true ? 1 : 0)]
        }
        r.collect("cascade_live", help: "1 when /healthz answers 200.", type: .gauge) { [weak self] in
            [Sample(self?.liveness().healthy == true ? 1 : 0)]
        }
        ProcessMetrics.register(in: r)
    }
}
