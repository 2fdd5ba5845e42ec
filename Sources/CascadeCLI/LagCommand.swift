import CascadeDomain
import CascadeService
import Foundation
import Kafka

/// `cascade lag`: what `kafka-consumer-groups.sh --describe` shows, plus lag in seconds. It
/// asks the broker, not a running member, so a stopped group still shows its lag.
enum LagCommand {
    static let lag = CommandSpec(
        ["lag"], "Show a consumer group's lag per partition: committed offset, log end, messages and seconds behind, owner.",
        options: [CommonOptions.brokers,
                  .value("group", "GROUP_ID", "the consumer group", env: "CASCADE_GROUP", default: "cascade"),
                  .value("topic", "TOPIC", "the topic (default: the reports topic)", env: "CASCADE_REPORTS_TOPIC",
                         default: TopicNames.defaults.reports),
                  .flag("json", "print one JSON object instead of a table"),
                  CommonOptions.kafkaConfig]
    ) { args in
        let group = try args.required("group"), topic = try args.required("topic")
        let admin = try KafkaAdmin(config: KafkaConfig(["bootstrap.servers": try args.required("brokers"), "log_level": "3"])
            .merging(try CommonOptions.kafkaOverrides(args).filteringConsumerOnly()))
        guard let count = try admin.partitionCount(topic, timeoutMs: 10_000) else {
            throw NotFound("no topic \(topic)", [("topic", .string(topic))])
        }
        let partitions = (0..<Int32(count)).map { TopicPartition(topic, $0) }
        let committed = try admin.committedOffsets(group: group, partitions: partitions)
        var marks: [TopicPartition: (low: Int64, high: Int64)] = [:]
        for tp in partitions { marks[tp] = try admin.watermarks(tp) }
        // The next report the group would read: at its committed offset, else the earliest.
        let behind = partitions.filter { tp in marks[tp]!.high > (committed[tp] ?? marks[tp]!.low) }
        let timestamps = try admin.timestamps(at: Dictionary(uniqueKeysWithValues: behind.map { ($0, committed[$0] ?? marks[$0]!.low) }))
        // Owners are a nicety: a broker without DescribeConsumerGroups still gets the figures.
        let description: ConsumerGroupDescription?
        do { description = try admin.describeGroup(group) } catch {
            description = nil
            Log.warning("could not describe the group; owners unknown", ["group": group, "error": "\(error)"])
        }
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        let rows = partitions.map { tp in
            LagRow(lag: PartitionLag(tp, .init(committed: committed[tp], low: marks[tp]!.low, logEnd: marks[tp]!.high,
                                              nextReportTimestampMs: timestamps[tp]), nowMs: nowMs),
                   owner: description?.owner(of: tp))
        }
        if args.flag("json") {
            CommonOptions.print(LagRow.json(rows, group: group, topic: topic, state: description?.state))
        } else {
            FileHandle.standardOutput.write(Data(LagRow.table(rows, group: group, state: description?.state).utf8))
        }
        return 0
    }
}

/// One partition of `cascade lag`'s answer, and how it is shown.
struct LagRow {
    let lag: PartitionLag
    let owner: ConsumerGroupDescription.Member?

    var ownerText: String { owner.map { "\($0.clientId)@\($0.host)" } ?? "-" }

    static func seconds(_ value: Double?) -> String { value.map { String(format: "%.1f", $0) } ?? "unknown" }

    static func table(_ rows: [LagRow], group: String, state: String?) -> String {
        let header = ["GROUP", "TOPIC", "PARTITION", "COMMITTED", "LOG-END", "LAG", "LAG-SECONDS", "OWNER"]
        var lines = rows.map { r in
            [group, r.lag.topicPartition.topic, "\(r.lag.topicPartition.partition)", r.lag.committed.map(String.init) ?? "-",
             "\(r.lag.logEnd)", "\(r.lag.messages)", seconds(r.lag.seconds), r.ownerText]
        }
        let oldest = rows.compactMap(\.lag.seconds).max()
        lines.append([group, "TOTAL", "", "", "", "\(rows.reduce(0) { $0 + $1.lag.messages })", seconds(oldest) + " (max)",
                      state.map { "group \($0)" } ?? ""])
        let widths = header.indices.map { i in ([header] + lines).map { $0[i].count }.max()! }
        return ([header] + lines).map { cells in
            cells.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n") + "\n"
    }

    static func json(_ rows: [LagRow], group: String, topic: String, state: String?) -> JSONValue {
        .object([
            ("group", .string(group)), ("topic", .string(topic)), ("state", state.map(JSONValue.string) ?? .null),
            ("partitions", .array(rows.map { r in
                .object([("partition", .int(r.lag.topicPartition.partition)),
                         ("committed", r.lag.committed.map { .int($0) } ?? .null),
                         ("log_end", .int(r.lag.logEnd)), ("lag", .int(r.lag.messages)),
                         ("lag_seconds", r.lag.seconds.map { .number(String(format: "%.3f", $0)) } ?? .null),
                         ("owner", r.owner.map { .object([("client_id", .string($0.clientId)), ("host", .string($0.host)),
                                                          ("member_id", .string($0.memberId))]) } ?? .null)])
            })),
            ("total_lag", .int(rows.reduce(Int64(0)) { $0 + $1.lag.messages })),
            ("max_lag_seconds", rows.compactMap(\.lag.seconds).max().map { .number(String(format: "%.3f", $0)) } ?? .null),
        ])
    }
}
