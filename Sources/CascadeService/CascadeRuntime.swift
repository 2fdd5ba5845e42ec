import CascadeDomain
import Foundation
import Kafka
import Postgres

/// The running service: one consumer loop and one outbox relay, each on its own thread with
/// its own PostgreSQL connection, sharing one idempotent producer.
public final class CascadeRuntime: @unchecked Sendable {
    public let settings: ServiceSettings
    public let consumer: CompletionConsumer
    public let relay: OutboxRelay
    private let producer: KafkaProducer

    public init(settings: ServiceSettings, onPublished: (@Sendable (OutboxMessage) -> Void)? = nil) throws {
        self.settings = settings
        producer = try KafkaProducer(config: settings.producerConfig())
        relay = OutboxRelay(settings: settings, producer: producer, onPublished: onPublished)
        consumer = CompletionConsumer(settings: settings, relay: relay)
    }

    /// Creates missing topics (when `topicPartitions` > 0), migrates, and starts both threads.
    public func start() throws {
        Log.info("starting", ["librdkafka": KafkaLibrary.versionString])
        if KafkaLibrary.isOlderThanRecommended { Log.warning(KafkaLibrary.startupLine) }
        if settings.topicPartitions > 0 {
            let admin = try KafkaAdmin(config: KafkaConfig(["bootstrap.servers": settings.brokers]).merging(settings.kafkaOverrides.filteringConsumerOnly()))
            let t = settings.topics
            do {
                try admin.createTopics([t.reports, t.results, t.requests, t.deadLetters].map { ($0, settings.topicPartitions) })
            } catch {
                Log.warning("could not create topics; relying on the broker's auto-creation", ["error": "\(error)"])
            }
        }
        let db = try PostgresConnection(url: settings.databaseURL)
        let applied = try Migrator.migrate(db)
        if !applied.isEmpty { Log.info("schema migrated", ["versions": applied.map(String.init).joined(separator: ",")]) }
        relay.start()
        consumer.start()
    }

    /// Drains in order: finish the batch and leave the group, publish the outbox, flush.
    public func stop() {
        consumer.stop()
        relay.stop()
        do { try producer.close(timeoutMs: 10_000) } catch { Log.warning("producer flush incomplete", ["error": "\(error)"]) }
        Log.info("stopped", ["reports": "\(consumer.counters.reports)", "published": "\(relay.publishedCount)"])
    }
}

/// Blocks the calling thread until SIGINT or SIGTERM.
public func waitForTerminationSignal() -> Int32 {
    let received = DispatchSemaphore(value: 0)
    let signalNumber = LockedBox<Int32>(0)
    var sources: [DispatchSourceSignal] = []
    for sig in [SIGINT, SIGTERM] {
        signal(sig, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        source.setEventHandler {
            signalNumber.set(sig)
            received.signal()
        }
        source.resume()
        sources.append(source)
    }
    received.wait()
    sources.forEach { $0.cancel() }
    return signalNumber.get()
}

final class LockedBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    init(_ value: T) { self.value = value }
    func get() -> T { lock.withLock { value } }
    func set(_ newValue: T) { lock.withLock { value = newValue } }
}
