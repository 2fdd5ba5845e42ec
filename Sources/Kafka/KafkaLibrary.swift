import CRdKafka

/// Facts about the librdkafka actually loaded at run time (which may differ from the headers
/// the package was compiled against: see docs/OPERATIONS.md).
public enum KafkaLibrary {
    /// The oldest release without the consumer and protocol bugs we know of (tagged-field
    /// parsing, stale fetch offsets, close hangs). Older ones work against Apache Kafka with care.
    public static let recommendedMinimum = 0x0202_00ff

    public static var versionString: String { String(cString: rd_kafka_version_str()) }
    public static var version: Int { Int(rd_kafka_version()) }
    public static var isOlderThanRecommended: Bool { version < recommendedMinimum }

    /// One line for the start-up log; names the problem when the runtime is too old.
    public static var startupLine: String {
        if isOlderThanRecommended {
            return "librdkafka \(versionString) loaded; WARNING: older than 2.2, which fixes consumer "
                + "bugs Cascade relies on being fixed (and cannot talk to Tansu); ship librdkafka >= 2.2"
        }
        return "librdkafka \(versionString) loaded"
    }
}
