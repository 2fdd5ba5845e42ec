import CRdKafka
import CRdKafka.Mock
import Kafka

/// librdkafka's in-process mock cluster: real Kafka protocol on loopback ports, with fault
/// injection. For tests, the benchmark and the demo's embedded broker, in a target of its own:
/// its API is experimental upstream, so the service never links it.
public final class MockKafkaCluster: @unchecked Sendable {  // because librdkafka's mock calls are thread-safe and the handles never change
    private let owner: OpaquePointer
    private let cluster: OpaquePointer

    /// `bootstrapServers` is reachable from other processes (kcat too) while this object lives.
    public let bootstrapServers: String

    public init(brokers: Int = 1) throws(KafkaError) {
        let conf = try KafkaConfig(["log_level": "3"]).makeNativeConf()
        owner = try makeNativeClient(RD_KAFKA_PRODUCER, conf: conf)
        guard let cluster = rd_kafka_mock_cluster_new(owner, Int32(brokers)) else {
            rd_kafka_destroy(owner)
            throw .invalidArgument("librdkafka could not start a mock cluster")
        }
        self.cluster = cluster
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(owner)
    }

    /// The mock has no CreateTopics; topics are made here (or auto-created on first use).
    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws(KafkaError) {
        let err = rd_kafka_mock_topic_create(cluster, name, Int32(partitions), Int32(replicationFactor))
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "mock topic \(name)") }
    }

    /// The next `errors.count` requests with this API key (0 = Produce) fail with these codes.
    public func failNextRequests(apiKey: Int16, with errors: [Int32]) {
        var codes = errors.map { rd_kafka_resp_err_t(rawValue: $0) }
        rd_kafka_mock_push_request_errors_array(cluster, apiKey, codes.count, &codes)
    }

    public func setBrokerDown(_ brokerId: Int32) { _ = rd_kafka_mock_broker_set_down(cluster, brokerId) }
    public func setBrokerUp(_ brokerId: Int32) { _ = rd_kafka_mock_broker_set_up(cluster, brokerId) }

    /// Moves a partition's leadership to `brokerId` (1-based), so one broker's outage hits
    /// only the partitions it leads.
    public func setLeader(topic: String, partition: Int32, brokerId: Int32) throws(KafkaError) {
        let err = rd_kafka_mock_partition_set_leader(cluster, topic, partition, brokerId)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "mock leader of \(topic)/\(partition)") }
    }

    /// Makes `brokerId` the coordinator of a consumer group.
    public func setGroupCoordinator(group: String, brokerId: Int32) throws(KafkaError) {
        let err = rd_kafka_mock_coordinator_set(cluster, "group", group, brokerId)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "mock coordinator of \(group)") }
    }

    public static let produceApiKey: Int16 = 0
}
