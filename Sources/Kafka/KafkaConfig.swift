import CRdKafka

/// librdkafka properties, passed through verbatim. Later assignments win, so defaults are
/// set first and operator overrides (`--kafka-config key=value`) last.
public struct KafkaConfig: Sendable {
    public private(set) var properties: [(key: String, value: String)] = []

    public init(_ properties: [String: String] = [:]) {
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) { set(key, value) }
    }

    public mutating func set(_ key: String, _ value: String) {
        properties.removeAll { $0.key == key }
        properties.append((key, value))
    }

    public subscript(key: String) -> String? {
        properties.last { $0.key == key }?.value
    }

    /// Parses one `key=value` override; the value may itself contain `=`.
    public mutating func apply(override: String) throws(KafkaError) {
        guard let eq = override.firstIndex(of: "="), eq != override.startIndex else {
            throw .invalidArgument("expected key=value, got '\(override)'")
        }
        set(String(override[..<eq]), String(override[override.index(after: eq)...]))
    }

    public func merging(_ other: KafkaConfig) -> KafkaConfig {
        var merged = self
        for (key, value) in other.properties { merged.set(key, value) }
        return merged
    }

    /// Properties whose values are credentials: never written to a log or an error.
    public static func isSensitive(_ key: String) -> Bool {
        let lowered = key.lowercased()
        return ["password", "passphrase", "secret", "private.key", "jaas", "oauthbearer.config", "key.pem", "ssl.key", "token", "keystore"]
            .contains { lowered.contains($0) }
    }

    /// Builds an `rd_kafka_conf_t`. The caller owns it until `rd_kafka_new` takes it.
    package func makeNativeConf() throws(KafkaError) -> OpaquePointer {
        let conf = rd_kafka_conf_new()!
        var errstr = [CChar](repeating: 0, count: 512)
        for (key, value) in properties {
            let result = rd_kafka_conf_set(conf, key, value, &errstr, errstr.count)
            if result != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                let reason = cString(errstr)
                // librdkafka's reason may quote the value; a credential's never leaves here.
                throw Self.isSensitive(key) ? .invalidArgument("\(key) (value not shown): \(value.isEmpty ? reason : reason.replacing(value, with: "<redacted>"))")
                                            : .invalidArgument("\(key)=\(value): \(reason)")
            }
        }
        rd_kafka_conf_set_log_cb(conf, clientLogTrampoline)
        return conf
    }
}

/// Creates an `rd_kafka_t`, taking ownership of `conf` whatever happens.
package func makeNativeClient(_ type: rd_kafka_type_t, conf: OpaquePointer) throws(KafkaError) -> OpaquePointer {
    var errstr = [CChar](repeating: 0, count: 512)
    guard let handle = rd_kafka_new(type, conf, &errstr, errstr.count) else {
        rd_kafka_conf_destroy(conf)
        throw .invalidArgument("cannot create Kafka client: \(cString(errstr))")
    }
    return handle
}

/// Decodes a NUL-terminated C string that librdkafka wrote into our buffer.
func cString(_ buffer: [CChar]) -> String {
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}
