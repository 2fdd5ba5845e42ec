import CascadeDomain
import Foundation
import HTTP
import Kafka
import Postgres
import Synchronization
import ServiceThreads

/// The running service: one consumer loop and one outbox relay, each on its own thread with
/// its own PostgreSQL connection, sharing one idempotent producer.
public final class CascadeRuntime: Sendable {
    public let settings: ServiceSettings
    public let consumer: CompletionConsumer
    public let relay: OutboxRelay
    /// Metrics, health and readiness: what `/metrics`, `/healthz` and `/readyz` serve.
    public let telemetry: ServiceTelemetry
    private let probes: [DependencyProbe]
    private let http: HTTPServer?
    private let producer: KafkaProducer
    /// Opened by the first signal or by a part that cannot go on.
    private let ending = Latch<ServiceEnding>()
    /// A signal after the first: the operator wants out now.
    private let secondSignal = Latch<Int32>()
    /// Kept for the whole run: a second signal must be seen during the drain.
    private let signalSources = Mutex<[any DispatchSourceSignal]>([])

    public init(settings: ServiceSettings, onPublished: (@Sendable (OutboxMessage) -> Void)? = nil) throws {
        let metrics = ServiceMetrics()
        KafkaLogRouting.install(onError: { [weak metrics] in metrics?.recordKafkaError($0) })
        self.settings = settings
        producer = try KafkaProducer(config: settings.producerConfig())
        relay = OutboxRelay(settings: settings, producer: producer, ending: ending, onPublished: onPublished, metrics: metrics)
        telemetry = ServiceTelemetry(metrics: metrics, health: ServiceHealth.Settings(stallTimeout: settings.stallTimeout), relay: relay)
        consumer = CompletionConsumer(settings: settings, relay: relay, ending: ending, telemetry: telemetry)
        probes = [.kafka(settings, telemetry: telemetry), .postgres(settings, telemetry: telemetry)]
        if let jwt = settings.authorizer as? JWTAuthorizer { metrics.countRejections(of: jwt) }
        // Bound now, so that a port in use fails the start before anything else happens.
        http = try settings.httpListen.map { [telemetry] address in
            try HTTPServer(listen: address) { ObservabilityEndpoints.respond(to: $0, telemetry: telemetry) }
        }
    }

    /// The port `/metrics` is served on (the one chosen when `--http-listen` asked for port 0).
    public var httpPort: Int? { http?.port }

    /// Creates missing topics (when `topicPartitions` > 0), migrates, and starts both threads.
    public func start() throws {
        Failpoints.logArmed()
        // Served from the start: a startup probe sees a live process while it waits for the broker,
        // and readiness says what start-up waits for.
        http?.start()
        probes.forEach { $0.start() }
        Log.info("starting", ["http": settings.httpListen.map { "\($0) (port \(httpPort ?? 0))" } ?? "off",
                              "librdkafka": KafkaLibrary.versionString, "brokers": settings.brokers, "group": settings.groupId,
                              "instance_id": settings.instanceId ?? "(dynamic member)",
                              "auth": settings.authMode,
                              "topics": settings.topics.all.joined(separator: ","),
                              "database": DatabaseAddress.redacted(settings.databaseURL)])
        if KafkaLibrary.isOlderThanRecommended { Log.warning(KafkaLibrary.startupLine) }
        let admin = try KafkaAdmin(config: settings.adminConfig())
        try waitForBroker(admin)
        let t = settings.topics
        if settings.topicPartitions > 0 {
            do {
                try admin.createTopics(t.all.map { ($0, settings.topicPartitions) },
                                       config: [TopicSizeCheck.setting: String(settings.largestOutgoingMessageBytes)])
            } catch {
                Log.warning("could not create topics; relying on the broker's auto-creation", ["error": "\(error)"])
            }
        }
        if settings.checksTopicSizes { try checkOutputTopicSizes(admin) }
        let db = try DependencyWait.database(settings.databaseURL, within: settings.databaseWait, stopRequested: { wasSignalled })
        let applied = try Migrator.migrate(db)
        if !applied.isEmpty { Log.info("schema migrated", ["versions": applied.map(String.init).joined(separator: ",")]) }
        relay.start()
        consumer.start()
    }

    /// Topics are created, and their sizes checked, only once the broker answers: a broker that
    /// was away at start once left the topics to auto-creation (4 partitions on Tansu, not the
    /// configured 6). Bounded by `brokerWait`, then start-up fails and the orchestrator retries.
    private func waitForBroker(_ admin: KafkaAdmin) throws {
        try DependencyWait.retrying("the broker", at: settings.brokers, within: settings.brokerWait,
                                    stopRequested: { wasSignalled }) {
            _ = try admin.partitionCount(settings.topics.reports, timeoutMs: 5_000)
        }
    }

    /// Refuses to start when an output topic could not take Cascade's largest message.
    private func checkOutputTopicSizes(_ admin: KafkaAdmin) throws {
        let outputs = settings.topics.outputs
        let required = settings.largestOutgoingMessageBytes
        let reported: Result<[String: [String: String]], KafkaError>
        do { reported = .success(try admin.topicConfigs(outputs, names: [TopicSizeCheck.setting], timeoutMs: 5_000)) } catch {
            reported = .failure(error)
        }
        switch TopicSizeCheck.evaluate(topics: outputs, required: required, reported: reported) {
        case .fits:
            Log.info("output topics take the largest message Cascade may publish", ["bytes": "\(required)"])
        case let .unknown(topics, why):
            Log.warning("output topics' size limits not checked", ["topics": topics.joined(separator: ","), "why": why,
                                                                  "required_bytes": "\(required)"])
        case .tooSmall(let problems):
            throw StartupRefusal(description: "output topics refuse messages as large as Cascade may publish (\(required) bytes: "
                + "--max-report-bytes \(settings.limits.maximumBytes) plus a \(ServiceSettings.envelopeBytes)-byte envelope): "
                + problems.joined(separator: "; ") + ". Raise their max.message.bytes or lower --max-report-bytes")
        }
    }

    /// Blocks until SIGINT or SIGTERM, or until a part fails for good; says which.
    public func waitForEnding() -> ServiceEnding {
        watchSignals()
        let reason = ending.wait()!
        telemetry.beginStopping()  // readiness fails while the member drains
        return reason
    }

    /// From now on SIGINT and SIGTERM end the run (a start still waiting for the broker too),
    /// and one more during `stop(within:)` ends its wait. Idempotent.
    public func watchSignals() {
        signalSources.withLock { sources in
            guard sources.isEmpty else { return }
            // SIGHUP re-reads the JWKS (with --auth jwt); it never stops the service.
            if let jwt = settings.authorizer as? JWTAuthorizer {
                signal(SIGHUP, SIG_IGN)
                let reload = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
                reload.setEventHandler { Log.info("SIGHUP: the JWKS is re-read before the next report"); jwt.reload() }
                reload.resume()
                sources.append(reload)
            }
            for sig in [SIGINT, SIGTERM] {
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                source.setEventHandler { [ending, secondSignal] in
                    if !ending.open(.signal(sig)) {
                        Log.warning("another signal: exiting without waiting for the drain", ["signal": "\(sig)"])
                        secondSignal.open(sig)
                    }
                }
                source.resume()
                sources.append(source)
            }
        }
    }

    /// Whether a signal has asked the run to end.
    public var wasSignalled: Bool { if case .signal? = ending.current { true } else { false } }

    public enum StopResult: Equatable {
        case drained
        case deadlinePassed
        case interrupted(signal: Int32)
    }

    /// Drains as `stop()` does, waiting at most `deadline`; a second signal ends the wait at
    /// once. When the wait ends early, the work in flight is abandoned: its offsets were never
    /// marked, so the partitions' next owner applies it again, and nothing is lost.
    public func stop(within deadline: Duration) -> StopResult {
        let drained = Latch<Void>()
        startServiceThread("cascade-stop") { [self] in
            stop()
            drained.open()
        }
        let end = ContinuousClock.now + deadline
        while ContinuousClock.now < end {
            if drained.wait(timeout: .milliseconds(50)) != nil { return .drained }
            if let sig = secondSignal.current { return .interrupted(signal: sig) }
        }
        return drained.isOpen ? .drained : .deadlinePassed
    }

    /// Drains in order: finish the batch and leave the group, publish the outbox, flush.
    public func stop() {
        consumer.stop()
        relay.stop()
        do { try producer.close(timeoutMs: 10_000) } catch { Log.warning("producer flush incomplete", ["error": "\(error)"]) }
        probes.forEach { $0.stop() }
        http?.stop()
        Log.info("stopped", ["reports": "\(consumer.counters.reports)", "published": "\(relay.publishedCount)"])
    }
}

/// Why a running service ends: a signal asked it to, or a part of it failed for good.
public enum ServiceEnding: Sendable, Equatable {
    case signal(Int32)
    case failure(String)
}
