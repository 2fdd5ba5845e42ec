import CascadeDomain
import CascadeService
import Foundation
import Kafka
import Postgres

/// Messages the broker refused for good, and originals of dead letters cut to fit: list them,
/// and re-send them once the broker's configuration is fixed.
enum ParkedCommands {
    static var all: [CommandSpec] { [list, resend] }

    static let list = CommandSpec(
        ["parked", "list"], "List parked messages, oldest first: topic, size, why, and where each came from.",
        options: [.value("limit", "N", "show at most N", default: "1000"), CommonOptions.databaseURL]
    ) { args in
        let limit = try args.int("limit", range: 1...1_000_000)!
        let records = try ParkedMessages.list(try CommonOptions.connect(args), limit: limit)
        CommonOptions.print(.array(records.map(json)))
        return 0
    }

    static let resend = CommandSpec(
        ["parked", "resend"], "Publish parked messages again, byte for byte; each one delivered is removed from the list.",
        options: [.value("id", "ID", "a parked message's id (repeatable)", repeatable: true),
                  .flag("all", "every parked message"),
                  CommonOptions.databaseURL, CommonOptions.brokers, CommonOptions.kafkaConfig]
    ) { args in
        let ids = try args.values("id").map { text throws(UsageError) -> Int64 in
            guard let id = Int64(text), id > 0 else { throw UsageError("--id must be a positive integer, got '\(text)'") }
            return id
        }
        guard ids.isEmpty == args.flag("all") else { throw UsageError("give --id (repeatable) or --all, not both") }
        let db = try CommonOptions.connect(args)
        let config = KafkaConfig(["bootstrap.servers": try args.required("brokers"), "log_level": "3"])
            .merging(try CommonOptions.kafkaOverrides(args).filteringConsumerOnly())
        let outcomes = try ParkedMessages.resend(db, ids: ids, producerConfig: config)
        CommonOptions.print(.array(outcomes.map { outcome in
            var members: [(key: String, value: JSONValue)] = [("id", .int(outcome.id))]
            switch outcome.result {
            case .success(let report):
                members += [("resent", true), ("topic", .string(report.topic)), ("partition", .int(report.partition)),
                            ("offset", .int(report.offset))]
            case .failure(let error):
                members += [("resent", false), ("error", .string(error.description))]
            }
            return .object(members)
        }))
        return outcomes.allSatisfy { if case .success = $0.result { true } else { false } } ? 0 : 1
    }

    private static func json(_ r: ParkedRecord) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("id", .int(r.id)), ("topic", r.topic.map(JSONValue.string) ?? .null), ("event_id", r.eventId.map(JSONValue.string) ?? .null),
            ("bytes", .int(r.size)), ("reason", .string(r.reason)), ("outbox_row", r.outboxRow.map { .int($0) } ?? .null),
            ("position", r.position.map { .int($0) } ?? .null), ("parked_at", .string(Timestamp.iso8601(r.parkedAt))),
        ]
        if let key = r.message?.key { members.append(("key", .string(String(decoding: key, as: UTF8.self)))) }
        if let headers = r.message?.headers {
            members.append(("headers", .array(headers.map { h in
                ["name": .string(h.name), "value": h.value.map { .string(String(decoding: $0, as: UTF8.self)) } ?? .null]
            })))
        }
        return .object(members)
    }
}
