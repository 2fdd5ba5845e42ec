import CascadeDomain
import CascadeService
import Foundation
import HTTP
import Kafka

enum ServiceCommands {
    static var all: [CommandSpec] { [consume, report] }

    static let consume = CommandSpec(
        ["consume"], "Consume completion reports until SIGINT/SIGTERM, then drain, commit and leave the group.",
        options: [CommonOptions.brokers, CommonOptions.databaseURL,
                  .value("group", "GROUP_ID", "consumer group id", env: "CASCADE_GROUP", default: "cascade")]
            + CommonOptions.topics + [
                .value("batch-size", "N", "reports polled per round (split between workers)", env: "CASCADE_BATCH_SIZE", default: "500"),
                .value("workers", "N", "threads applying batches, each with its own database connection", env: "CASCADE_WORKERS", default: "2"),
                .value("batch-linger-ms", "MS", "wait this long to fill a batch once it has a report", env: "CASCADE_BATCH_LINGER_MS", default: "0"),
                .value("max-pending-kb", "KB", "polled reports waiting for the workers, at most; then fetching pauses", env: "CASCADE_MAX_PENDING_KB", default: "16384"),
                .value("depth-limit", "N", "cascade depth limit (loop guard)", env: "CASCADE_DEPTH_LIMIT", default: "8"),
                .value("max-report-bytes", "BYTES", "reports larger than this are rejected; output topics must take this plus 64 KiB", default: "1048576"),
                .flag("require-key-match", "reject (400) a report whose message key is not its job_id; by default the value's job_id rules"),
                .value("topic-partitions", "N", "partitions for topics created when missing; 0 creates none", default: "6"),
                .value("status-interval", "SECONDS", "how often to log a status line", default: "10"),
                .value("health-file", "PATH", "touched every second while the service is live (a file-based liveness probe)", env: "CASCADE_HEALTH_FILE"),
                .value("http-listen", "ADDR:PORT", "serve /metrics, /healthz and /readyz here; 'off' serves nothing",
                       env: "CASCADE_HTTP_LISTEN", default: "0.0.0.0:9464"),
                .value("stall-timeout", "SECONDS", "/healthz fails when the poll loop or a worker holding reports makes no progress this long",
                       env: "CASCADE_STALL_TIMEOUT", default: "60"),
                .value("broker-wait", "SECONDS", "how long start-up waits for the broker before giving up", env: "CASCADE_BROKER_WAIT", default: "60"),
                CommonOptions.databaseWait,
                .value("instance-id", "ID", "group.instance.id: a static member, whose restart within session.timeout.ms moves no partitions",
                       env: "CASCADE_INSTANCE_ID"),
                .value("leave-group-file", "PATH", "if this file exists at shutdown, a static member leaves the group (scale-in)",
                       env: "CASCADE_LEAVE_GROUP_FILE"),
                .value("shutdown-timeout", "SECONDS", "longest drain after SIGTERM; then exit 75, leaving in-flight work to the next owner",
                       env: "CASCADE_SHUTDOWN_TIMEOUT", default: "20"),
                CommonOptions.kafkaConfig,
            ] + AuthOptions.all
    ) { args in
        let settings = try settings(args)
        let shutdownTimeout = Duration.seconds(try args.int("shutdown-timeout", range: 1...3600)!)
        // From here on, a failure to start is a JSON line like every other line `consume` writes.
        let runtime: CascadeRuntime
        do {
            runtime = try CascadeRuntime(settings: settings)
            runtime.watchSignals()
            do { try runtime.start() } catch where runtime.wasSignalled {
                Log.info("stopped before the start completed", ["reason": "\(error)"])
                return 0
            }
        } catch let refusal as StartupRefusal {
            Log.error("refusing to start", ["reason": refusal.description])
            return 2
        } catch {
            Log.error("could not start", ["error": "\(error)"])
            return 1
        }
        let ending = runtime.waitForEnding()
        switch ending {
        case .signal(let number): Log.info("signal received; draining", ["signal": "\(number)"])
        case .failure(let reason): Log.error("a part of the service failed for good; stopping", ["reason": reason])
        }
        switch runtime.stop(within: shutdownTimeout) {
        case .drained: break
        case .deadlinePassed:
            Log.error("shutdown deadline passed; exiting with work in flight, unmarked, for the next owner",
                      ["shutdown_timeout_s": "\(shutdownTimeout.components.seconds)"])
            return ExitCode.shutdownCut
        case .interrupted:
            return ExitCode.shutdownCut
        }
        // The orchestrator restarts a member that failed; nothing unapplied was marked.
        if case .failure = ending { return ExitCode.failed }
        return 0
    }

    static func settings(_ args: ParsedArguments) throws -> ServiceSettings {
        var settings = ServiceSettings(brokers: try args.required("brokers"), databaseURL: args.value("database-url"))
        settings.groupId = try args.required("group")
        settings.topics = try CommonOptions.topicNames(args)
        settings.batchSize = try args.int("batch-size", range: 1...100_000)!
        settings.workers = try args.int("workers", range: 1...64)!
        settings.batchLingerMs = try args.int("batch-linger-ms", range: 0...60_000)!
        settings.pendingBytesLimit = try args.int("max-pending-kb", range: 1...(4 << 20))! << 10
        settings.depthLimit = try args.int("depth-limit", range: 1...1000)!
        settings.limits.maximumBytes = try args.int("max-report-bytes", range: 1...(64 << 20))!
        settings.limits.requireKeyMatch = args.flag("require-key-match")
        settings.topicPartitions = try args.int("topic-partitions", range: 0...10_000)!
        settings.statusInterval = .seconds(try args.int("status-interval", range: 1...3600)!)
        settings.healthFile = args.value("health-file")
        settings.stallTimeout = .seconds(try args.int("stall-timeout", range: 1...86_400)!)
        let listen = try args.required("http-listen")
        if listen != "off" {
            do { _ = try ListenAddress.parse(listen) } catch { throw UsageError("--http-listen \(listen): \(error)") }
            settings.httpListen = listen
        }
        settings.brokerWait = .seconds(try args.int("broker-wait", range: 1...3600)!)
        settings.databaseWait = .seconds(try args.int("database-wait", range: 1...3600)!)
        settings.leaveGroupFile = args.value("leave-group-file")
        settings.kafkaOverrides = try CommonOptions.kafkaOverrides(args)
        settings.instanceId = try instanceId(flag: args.value("instance-id"), property: settings.kafkaOverrides["group.instance.id"])
        if let problem = settings.producerSizeProblem() { throw UsageError(problem) }
        // Fail on a bad librdkafka property now, with exit code 2, not later in a thread.
        do { _ = try KafkaConsumer(config: settings.consumerConfig()) } catch {
            throw UsageError("invalid Kafka configuration: \(error.message)")
        }
        // Last, so that every other mistake is reported first; it may read the JWKS.
        settings.authorizer = try AuthOptions.authorizer(args)
        return settings
    }

    /// The static member's id, from `--instance-id` or the `group.instance.id` property (one
    /// id: the log and the leave decision must name the one librdkafka uses), checked as the
    /// broker would check it, so a bad one is exit 2 rather than a failed join.
    static func instanceId(flag: String?, property: String?) throws(UsageError) -> String? {
        if let flag, let property, flag != property {
            throw UsageError("--instance-id \(flag) and group.instance.id=\(property) disagree; give one")
        }
        guard let id = flag ?? property else { return nil }
        let legal = id.utf8.allSatisfy { b in
            (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) || b == 0x2e || b == 0x5f || b == 0x2d
        }
        guard !id.isEmpty, id.utf8.count <= 249, legal else {
            throw UsageError("the instance id must be 1 to 249 of a-z A-Z 0-9 . _ - (Kafka's rule), got '\(id)'")
        }
        return id
    }

    static let report = CommandSpec(
        ["report"], "Publish a completion report, as POST /v2/models/{model}/versions/{version}/jobs/{job}/complete would.",
        positionals: [("MODEL_ID", "the job's model"), ("VERSION", "the model version"), ("JOB_ID", "the job")],
        options: [.value("status", "STATUS", "success or failure"), .value("output", "JSON", "output metadata (an object)"),
                  .value("error", "JSON", "failure details (an object)"), .value("request-id", "ID", "echoed in the result record"),
                  .value("authorization", "HEADER", "e.g. 'Bearer <token>'"),
                  CommonOptions.brokers, CommonOptions.reportsTopic, CommonOptions.kafkaConfig]
    ) { args in
        let status = try args.required("status")
        guard CompletionStatus(rawValue: status) != nil else { throw UsageError("--status must be success or failure, got '\(status)'") }
        var body: [(key: String, value: JSONValue)] = [
            ("model_id", .string(args.positionals[0])), ("model_version", .string(args.positionals[1])),
            ("job_id", .string(args.positionals[2])), ("status", .string(status)),
        ]
        if let output = try CommonOptions.json(args.value("output"), option: "output") { body.append(("output", output)) }
        if let error = try CommonOptions.json(args.value("error"), option: "error") { body.append(("error", error)) }
        var headers: [KafkaHeader] = []
        if let requestId = args.value("request-id") { headers.append(KafkaHeader("request-id", requestId)) }
        if let auth = args.value("authorization") { headers.append(KafkaHeader("authorization", auth)) }
        let producer = try KafkaProducer(config: KafkaConfig(["bootstrap.servers": try args.required("brokers"), "log_level": "3"])
            .merging(try CommonOptions.kafkaOverrides(args).filteringConsumerOnly()))
        let results = try producer.sendAndWait([OutgoingMessage(topic: try args.required("reports-topic"), key: args.positionals[2],
                                                                value: JSONValue.object(body).description, headers: headers)],
                                               timeout: .seconds(30))
        try producer.close()
        let delivered = try results[0].get()
        CommonOptions.print(["topic": .string(delivered.topic), "partition": .int(delivered.partition), "offset": .int(delivered.offset)])
        return 0
    }
}

/// `consume`'s exit codes besides 0 (drained) and 2 (bad configuration).
enum ExitCode {
    /// 70, EX_SOFTWARE: a part of the service failed for a reason retrying cannot fix.
    static let failed: Int32 = 70
    /// 75, EX_TEMPFAIL: the drain was cut short (the deadline, or a second signal); the work
    /// in flight was not marked, so the partitions' next owner applies it.
    static let shutdownCut: Int32 = 75
}
