import CascadeDomain
import Crypto
import Kafka

/// Everything `cascade consume` needs, already validated by the command line.
public struct ServiceSettings: Sendable {
    public var brokers: String
    public var databaseURL: String?
    public var groupId: String = "cascade"
    public var topics: TopicNames = .defaults
    /// Threads applying batches, each with its own PostgreSQL connection; partitions are split
    /// between them.
    public var workers: Int = 2
    /// Reports per transaction at most.
    public var batchSize: Int = 500
    /// Bytes of polled reports waiting for the workers, at most (librdkafka's prefetch,
    /// `queued.max.messages.kbytes`, comes on top).
    public var pendingBytesLimit: Int = 16 << 20
    /// How long a batch may wait for more reports once it has one; 0 takes what is ready.
    public var batchLingerMs: Int = 0
    public var depthLimit: Int = SubscriptionFiring.defaultDepthLimit
    public var limits: ReportLimits = .defaults
    /// Extra librdkafka properties for every client (`--kafka-config`).
    public var kafkaOverrides = KafkaConfig()
    /// Partitions for topics Cascade creates when missing; 0 leaves creation to the broker.
    public var topicPartitions: Int = 6
    public var statusInterval: Duration = .seconds(10)
    /// Ask the broker at start whether the output topics take Cascade's largest message
    /// (TopicSizeCheck). Off only for the demo's embedded mock broker, which has no
    /// DescribeConfigs and would hold the start for the request's timeout.
    public var checksTopicSizes = true
    /// How long start-up waits for the broker to answer before it gives up (exit 1).
    public var brokerWait: Duration = .seconds(60)
    /// How long start-up waits for PostgreSQL to accept a session before it gives up (exit 1),
    /// so a stack started in any order comes up without a restart.
    public var databaseWait: Duration = .seconds(60)
    /// `group.instance.id`: a static member (KIP-345) that restarts within `session.timeout.ms`
    /// gets its partitions back without a rebalance; nil is a dynamic member.
    public var instanceId: String?
    /// When this file exists at shutdown, a static member leaves the group anyway, so that a
    /// member being scaled in hands its partitions over at once (a preStop hook writes it).
    public var leaveGroupFile: String?
    /// Touched about once a second while the poll loop runs and no worker is stalled, for a
    /// liveness probe that reads files.
    public var healthFile: String?
    /// Where `/metrics`, `/healthz` and `/readyz` are served; nil (the default here, so that
    /// tests running several members in one process do not collide) serves nothing.
    /// `cascade consume` defaults to 0.0.0.0:9464.
    public var httpListen: String?
    /// Liveness fails when the poll loop, or a worker holding work, makes no progress this long.
    public var stallTimeout: Duration = .seconds(60)
    /// Who may complete which jobs; the default accepts every report.
    public var authorizer: any ReportAuthorizer = AllowAllAuthorizer()

    /// The first 8 hex digits of a credential's SHA-256, naming a redacted token in a dead letter.
    static let credentialFingerprint: DeadLetter.CredentialFingerprint = { credential in
        SHA256.digest(credential).prefix(4).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// How reports are authorized, for the start-up line: jwt, tokens or none.
    public var authMode: String {
        switch authorizer {
        case is JWTAuthorizer: "jwt"
        case is BearerTokenAuthorizer: "tokens"
        default: "none"
        }
    }

    package var planner: CompletionPlanner {
        CompletionPlanner(topics: topics, depthLimit: depthLimit, authorizer: authorizer,
                          deadLetterSizeLimit: limits.maximumBytes, credentialFingerprint: Self.credentialFingerprint)
    }

    /// Room for what Cascade adds around a report's bytes: a downstream request's envelope
    /// (ids of at most 255 characters, the trigger), a dead letter's headers (a reason of at
    /// most 1 KiB, its source), a result record, and the record framing. About 2 KiB is used;
    /// the rest is margin for the original headers a dead letter keeps.
    public static let envelopeBytes = 64 << 10

    /// The largest message Cascade may publish: the producer is set to take it, and the output
    /// topics must (`max.message.bytes`), or `consume` refuses to start.
    public var largestOutgoingMessageBytes: Int { limits.maximumBytes + Self.envelopeBytes }

    /// Why the producer could not send the largest message Cascade may emit, if it cannot:
    /// an explicit `message.max.bytes` below what `--max-report-bytes` needs.
    public func producerSizeProblem() -> String? {
        guard let set = kafkaOverrides["message.max.bytes"], let bytes = Int(set), bytes < largestOutgoingMessageBytes else {
            return nil
        }
        return "message.max.bytes=\(set) is below the \(largestOutgoingMessageBytes) bytes Cascade may publish with "
            + "--max-report-bytes \(limits.maximumBytes) (the report plus a \(Self.envelopeBytes)-byte envelope); "
            + "raise it or lower --max-report-bytes"
    }
    /// Longest time between offset commits while reports flow.
    public var commitInterval: Duration = .milliseconds(200)

    public init(brokers: String, databaseURL: String?) {
        self.brokers = brokers
        self.databaseURL = databaseURL
    }

    /// For the start-up checks and the dependency probe: never a group member.
    public func adminConfig() -> KafkaConfig {
        KafkaConfig(["bootstrap.servers": brokers, "log_level": "3"]).merging(kafkaOverrides.filteringConsumerOnly())
    }

    /// What closing the consumer does to the membership.
    public enum Closing: Equatable, Sendable {
        /// A dynamic member: librdkafka leaves the group on close, as always.
        case dynamicLeave
        /// A static member coming back (a restart): it keeps its partitions for the session.
        case staticStay
        /// A static member being scaled in (the leave-group file exists): it leaves anyway.
        case staticLeave
    }

    public func closing(fileExists: (String) -> Bool) -> Closing {
        guard instanceId != nil else { return .dynamicLeave }
        return leaveGroupFile.map(fileExists) ?? false ? .staticLeave : .staticStay
    }

    public func consumerConfig() -> KafkaConfig {
        var config = KafkaConfig([
            "bootstrap.servers": brokers,
            "group.id": groupId,
            "client.id": "cascade-consumer",
            // Bounded prefetch: memory stays flat while a backlog drains.
            "queued.max.messages.kbytes": "8192",
            "partition.assignment.strategy": "cooperative-sticky",
            // A dead member's partitions move after session.timeout.ms; librdkafka's 45 s
            // default held a backlog for most of a minute after a kill -9. librdkafka heartbeats
            // from its own thread, so a slow batch never misses one: 10 s (3 heartbeats) costs
            // nothing in false expiries. The poll loop never blocks on the database, so the
            // default max.poll.interval.ms (300 s) is only reached when the loop itself is stuck.
            "session.timeout.ms": "10000",
            "heartbeat.interval.ms": "3000",
            "max.poll.interval.ms": "300000",
            // A subscribed topic that does not exist yet is noticed at the next metadata
            // refresh: every 5 minutes by default, every 5 s here (one small request each).
            "topic.metadata.refresh.interval.ms": "5000",
            "log_level": "4",
        ])
        if let instanceId { config.set("group.instance.id", instanceId) }
        return config.merging(kafkaOverrides)
    }

    /// The relay hands over a committed batch's messages at once, so they batch without
    /// waiting; a longer linger only delays the lone messages of a quiet period.
    public static let relayLingerMs = "0.5"

    public func producerConfig() -> KafkaConfig {
        KafkaConfig([
            "bootstrap.servers": brokers,
            "client.id": "cascade-relay",
            "linger.ms": Self.relayLingerMs,
            // Bounded, so a relay round never holds its outbox claim for librdkafka's 5-minute default.
            "message.timeout.ms": "30000",
            // Everything Cascade may publish must fit (librdkafka's default is 1,000,000).
            "message.max.bytes": String(largestOutgoingMessageBytes),
            "log_level": "4",
        ]).merging(kafkaOverrides.filteringConsumerOnly())
    }
}

extension KafkaConfig {
    /// Consumer-only properties make a producer warn; drop the ones we know of.
    public func filteringConsumerOnly() -> KafkaConfig {
        let consumerOnly: Set<String> = ["group.id", "session.timeout.ms", "heartbeat.interval.ms", "auto.offset.reset",
                                         "partition.assignment.strategy", "max.poll.interval.ms", "queued.max.messages.kbytes",
                                         "fetch.max.bytes", "fetch.wait.max.ms", "group.instance.id", "enable.auto.commit"]
        var filtered = KafkaConfig()
        for (key, value) in properties where !consumerOnly.contains(key) { filtered.set(key, value) }
        return filtered
    }
}
