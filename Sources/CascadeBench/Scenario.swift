import CascadeDomain
import CascadeService
import Foundation
import Kafka
import Postgres
import KafkaMock

/// One phase's private namespace: its topics, jobs and consumer group, so phases and runs never
/// see each other's data.
struct Scenario {
    let name: String
    let runId: String
    let topics: TopicNames
    let sourceModel: String

    init(_ name: String, runId: String, sourceModel: String) {
        self.name = name
        self.runId = runId
        self.sourceModel = sourceModel
        let prefix = "bench-\(runId)-\(name)"
        topics = TopicNames(reports: "\(prefix).reports", results: "\(prefix).results", requests: "\(prefix).requests",
                            deadLetters: "\(prefix).dlq")
    }

    var jobPrefix: String { "b\(runId)\(name)-" }
    func jobId(_ i: Int) -> String { "\(jobPrefix)\(i)" }
    func isSuccess(_ i: Int, ratio: Double) -> Bool { Double(i % 100) < ratio * 100 }

    /// `count` started inference jobs of the source model, inserted in one statement.
    func seedJobs(_ db: PostgresConnection, count: Int) throws {
        try db.query("""
            INSERT INTO jobs (job_id, model_id, model_version, job_type, status, input, started_at)
            SELECT $1 || i, $2, 'v1', 'inference', 'started', '{}'::jsonb, now() FROM generate_series(0, $3 - 1) AS i
            """, [jobPrefix, sourceModel, count])
    }

    func reportValue(_ i: Int, success: Bool, sentUs: Int64? = nil) -> String {
        let output = sentUs.map { #"{"sent_us":\#($0)}"# } ?? #"{"uri":"s3://bench/out/\#(i).json","tokens":512}"#
        return success
            ? #"{"model_id":"\#(sourceModel)","model_version":"v1","job_id":"\#(jobId(i))","status":"success","output":\#(output)}"#
            : #"{"model_id":"\#(sourceModel)","model_version":"v1","job_id":"\#(jobId(i))","status":"failure","error":{"code":"OOM"}}"#
    }

    func createTopics(on broker: BenchBroker, partitions: Int) throws {
        try broker.createTopics([(topics.reports, partitions), (topics.results, partitions), (topics.requests, partitions),
                                 (topics.deadLetters, 1)])
    }

    /// Starts `cascade consume` on this scenario's topics.
    func startConsumer(_ options: BenchOptions, brokers: String, batchSize: Int, extraConfig: [String] = [],
                       auth: [String] = ["--auth", "none"]) throws -> ConsumerProcess {
        var args = ["consume"] + auth + ["--brokers", brokers, "--group", "bench-\(runId)-\(name)",
                    "--reports-topic", topics.reports, "--results-topic", topics.results, "--requests-topic", topics.requests,
                    "--dlq-topic", topics.deadLetters, "--topic-partitions", "0", "--batch-size", "\(batchSize)", "--workers", "\(options.workers)",
                    "--status-interval", "1", "--http-listen", "127.0.0.1:0",
                    "--kafka-config", "session.timeout.ms=6000", "--kafka-config", "heartbeat.interval.ms=1000"]
        if let url = options.databaseURL { args += ["--database-url", url] }
        for property in options.consumerConfig + extraConfig { args += ["--kafka-config", property] }
        return try ConsumerProcess(options.cascadeBinary, args, logPath: NSTemporaryDirectory() + "cascade-bench-\(runId)-\(name).log")
    }

    /// Checks the end state the drain must reach: every job completed once, one downstream job
    /// per success, nothing left in the outbox. Returns the problems found.
    func verify(_ db: PostgresConnection, count: Int, successes: Int, firedPerSuccess: Int = 1) throws -> [String] {
        var problems: [String] = []
        let row = try db.query("""
            SELECT count(*) FILTER (WHERE status IN ('success', 'failure')) AS done,
                   count(*) FILTER (WHERE status = 'success') AS ok
            FROM jobs WHERE model_id = $1 AND job_id LIKE $2 || '%'
            """, [sourceModel, jobPrefix]).first!
        if try row.int("done") != count { problems.append("\(try row.int("done")) of \(count) jobs completed") }
        if try row.int("ok") != successes { problems.append("\(try row.int("ok")) successes, expected \(successes)") }
        let children = try db.query("SELECT count(*) AS n FROM jobs WHERE parent_job_id LIKE $1 || '%'", [jobPrefix]).first!.int("n")
        if children != successes * firedPerSuccess { problems.append("\(children) downstream jobs, expected \(successes * firedPerSuccess)") }
        let left = try db.query("SELECT count(*) AS n FROM outbox WHERE position(convert_to($1, 'UTF8') IN messages) > 0", ["bench-\(runId)-\(name)."]).first!.int("n")
        if left != 0 { problems.append("\(left) outbox rows left") }
        return problems
    }
}

/// A broker the benchmark runs a phase on: the one given (Tansu under `make bench`), or
/// librdkafka's mock cluster inside this process, whose own latency is near zero.
struct BenchBroker {
    /// Prefixes the figures measured on it ("" for the main broker).
    let figurePrefix: String
    let bootstrapServers: String
    /// Client properties for this broker, after the run's own.
    var clientConfig: [String] = []
    let createTopics: ([(String, Int)]) throws -> Void

    static func main(_ brokers: String) throws -> BenchBroker {
        let admin = try KafkaAdmin(config: KafkaConfig(["bootstrap.servers": brokers, "log_level": "3"]))
        return BenchBroker(figurePrefix: "", bootstrapServers: brokers) { try admin.createTopics($0) }
    }

    static func mock(_ cluster: MockKafkaCluster) -> BenchBroker {
        // The mock, like Tansu, answers a fetch with no data only when fetch.wait.max.ms runs
        // out; Apache Kafka answers as soon as data arrives. 1 ms comes closer to that.
        BenchBroker(figurePrefix: "mock_", bootstrapServers: cluster.bootstrapServers, clientConfig: ["fetch.wait.max.ms=1"]) { topics in
            for (name, partitions) in topics { try cluster.createTopic(name, partitions: partitions) }
        }
    }
}
