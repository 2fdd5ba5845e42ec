import CascadeDomain
import Foundation
import Kafka
import Postgres

/// The operator's side of parked messages: list them, re-send them.
public enum ParkedMessages {
    public struct ResendOutcome: Sendable {
        public let id: Int64
        public let result: Result<DeliveryReport, KafkaError>
    }

    public static func list(_ db: PostgresConnection, limit: Int) throws -> [ParkedRecord] {
        try ParkedStore.list(db, limit: limit)
    }

    /// Publishes each parked message (`ids` empty: all of them) byte for byte, and removes
    /// each one the broker acknowledged. A message that fails again stays parked.
    public static func resend(_ db: PostgresConnection, ids: [Int64], producerConfig: KafkaConfig) throws -> [ResendOutcome] {
        let records = try ParkedStore.list(db, ids: ids, limit: Int(Int32.max))
        let missing = Set(ids).subtracting(records.map(\.id))
        var outcomes = missing.sorted().map {
            ResendOutcome(id: $0, result: .failure(KafkaError(code: -1, name: "NOT_PARKED", message: "no parked message \($0)",
                                                              isRetriable: false, isFatal: false)))
        }
        let sendable = records.compactMap { r in r.message.map { (r.id, $0) } }
        for r in records where r.message == nil {
            outcomes.append(ResendOutcome(id: r.id, result: .failure(KafkaError(
                code: -1, name: "UNDECODABLE", message: "parked outbox row \(r.outboxRow ?? 0) does not decode; nothing to send",
                isRetriable: false, isFatal: false))))
        }
        guard !sendable.isEmpty else { return outcomes }
        // The producer takes the largest of them; whether the broker does is what the operator
        // fixed. An explicit message.max.bytes in `producerConfig` wins.
        let largest = sendable.map { $0.1.size }.max() ?? 0
        let producer = try KafkaProducer(config: KafkaConfig(["message.max.bytes": String(min(1_000_000_000, max(1_000_000, largest + ServiceSettings.envelopeBytes)))])
            .merging(producerConfig))
        defer { try? producer.close(timeoutMs: 10_000) }
        let results = try producer.sendAndWait(sendable.map { _, m in
            OutgoingMessage(topic: m.topic, key: m.key, value: m.value, headers: m.headers.map { KafkaHeader($0.name, $0.value) })
        }, timeout: .seconds(60))
        for ((id, _), result) in zip(sendable, results) {
            if case .success = result { try ParkedStore.delete(db, id: id) }
            outcomes.append(ResendOutcome(id: id, result: result))
        }
        return outcomes.sorted { $0.id < $1.id }
    }
}
