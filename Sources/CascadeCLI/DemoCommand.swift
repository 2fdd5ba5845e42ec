import CascadeDomain
import CascadeService
import Foundation
import Kafka
import KafkaMock
import Postgres

/// `make run`: the whole pipeline on an embedded broker (librdkafka's mock cluster, reachable
/// over TCP by kcat and `cascade report`) and the database in DATABASE_URL.
enum DemoCommand {
    static let demo = CommandSpec(
        ["demo"], "Run Cascade on an embedded broker with a demo registry and a few reports; Ctrl-C stops it.",
        options: [CommonOptions.databaseURL]
    ) { args in
        let cluster = try MockKafkaCluster(brokers: 1)
        let topics = TopicNames.defaults
        for topic in topics.all {
            try cluster.createTopic(topic, partitions: 3)
        }
        let db = try CommonOptions.connect(args)
        let seeded = try seed(RegistryStore(db: db))

        var settings = ServiceSettings(brokers: cluster.bootstrapServers, databaseURL: args.value("database-url"))
        settings.groupId = "cascade-demo"
        settings.topicPartitions = 0
        settings.checksTopicSizes = false
        settings.kafkaOverrides = KafkaConfig(["log_level": "3"])
        settings.statusInterval = .seconds(30)
        // --auth jwt in its development mode: HS256 with a secret made for this run.
        let tokens = DemoTokens()
        settings.authorizer = try JWTAuthorizer(settings: JWTAuthorizer.Settings(
            jwksPath: nil, policy: TokenPolicy(issuer: DemoTokens.issuer), hs256Secret: tokens.secret))
        let runtime = try CascadeRuntime(settings: settings, onPublished: show)
        try runtime.start()

        say("""

        ── Cascade demo ───────────────────────────────────────────────────────────────
        embedded broker:  \(cluster.bootstrapServers)   (kcat -b \(cluster.bootstrapServers) -L)
        database:         \(args.value("database-url") ?? "(libpq PG* variables)")
        registry:         model demo-A (inference) fires three subscriptions:
                            → demo-B  inference, input = the report's output
                            → demo-C  training,  input = stored {"dataset": "s3://demo/train"}
                            → demo-missing  (no such model: fails to trigger, so the answer is 207)
        auth:             --auth jwt, HS256 with a secret made for this run (development mode)
        publishing five reports, each with a bearer token: a success, a failure, the success
        again (duplicate), junk, and a success whose token expired an hour ago (401).
        ───────────────────────────────────────────────────────────────────────────────

        """)
        let producer = try KafkaProducer(config: KafkaConfig(["bootstrap.servers": cluster.bootstrapServers, "log_level": "3"]))
        let reports: [(key: String, value: String)] = [
            (seeded[0], #"{"model_id":"demo-A","model_version":"v1","job_id":"\#(seeded[0])","status":"success","output":{"uri":"s3://demo/out/1.json"}}"#),
            (seeded[1], #"{"model_id":"demo-A","model_version":"v1","job_id":"\#(seeded[1])","status":"failure","error":{"code":"OOM","detail":"GPU memory"}}"#),
            (seeded[0], #"{"model_id":"demo-A","model_version":"v1","job_id":"\#(seeded[0])","status":"success","output":{"uri":"s3://demo/out/1.json"}}"#),
            ("junk", "this is not JSON"),
            (seeded[2], #"{"model_id":"demo-A","model_version":"v1","job_id":"\#(seeded[2])","status":"success","output":{"uri":"s3://demo/out/3.json"}}"#),
        ]
        _ = try producer.sendAndWait(reports.enumerated().map { index, report in
            OutgoingMessage(topic: topics.reports, key: report.key, value: report.value,
                            headers: [KafkaHeader("request-id", "demo-\(UUID().uuidString.prefix(8))"),
                                      KafkaHeader("authorization", tokens.header(expired: index == 4))])
        })
        try producer.close()

        // Eight messages follow from those five reports; show them before the instructions.
        let deadline = Date().addingTimeInterval(20)
        while runtime.relay.publishedCount < 8 && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        say("""

        More reports, from another terminal in this directory (a new started job first):
          eval "$(scripts/services.sh env)"; export CASCADE_BROKERS=\(cluster.bootstrapServers)
          JOB=$(swift run -q cascade job create --model demo-A --version v1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["job_id"])')
          TOKEN='\(tokens.header())'   # valid for an hour
          swift run -q cascade report demo-A v1 $JOB --status success --output '{"uri":"s3://x"}' --authorization "$TOKEN"
          swift run -q cascade job get $JOB
        Ctrl-C to stop.

        """)
        let ending = runtime.waitForEnding()
        runtime.stop()
        if case .failure(let reason) = ending {
            say("the demo failed: \(reason)")
            return 70
        }
        return 0
    }

    /// Upserts the demo registry and returns three fresh started jobs of demo-A.
    static func seed(_ store: RegistryStore) throws -> [String] {
        try store.upsertModel(id: "demo-A", actions: [.inference])
        try store.upsertModel(id: "demo-B", actions: [.inference])
        try store.upsertModel(id: "demo-C", actions: [.training])
        for model in ["demo-A", "demo-B", "demo-C"] { try store.upsertVersion(modelId: model, version: "v1", status: .active) }
        if try store.subscriptions(sourceModelId: "demo-A").isEmpty {
            _ = try store.createSubscription(sourceModelId: "demo-A", trigger: .inferenceComplete, targetModelId: "demo-B",
                                             action: .inference, inputSource: .triggerOutput, input: nil, label: "A→B")
            _ = try store.createSubscription(sourceModelId: "demo-A", trigger: .inferenceComplete, targetModelId: "demo-C",
                                             action: .training, inputSource: .stored, input: ["dataset": "s3://demo/train"], label: "A→C")
            _ = try store.createSubscription(sourceModelId: "demo-A", trigger: .inferenceComplete, targetModelId: "demo-missing",
                                             action: .inference, inputSource: .triggerOutput, input: nil, label: "A→missing")
        }
        return try (0..<3).map { _ in
            try store.createJob(id: UUID().lowercasedText, modelId: "demo-A", version: "v1", type: .inference,
                                status: .started, input: ["prompt": "hello"]).id
        }
    }

    @Sendable static func show(_ message: OutboxMessage) {
        let value = message.value.map { String(decoding: $0, as: UTF8.self) } ?? "null"
        let reason = message.headers.first { $0.name == "dlq-reason" }?.value.map { String(decoding: $0, as: UTF8.self) }
        say("published → \(message.topic)\(reason.map { "  [reason: \($0)]" } ?? "")\n    \(value)")
    }

    static func say(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}
