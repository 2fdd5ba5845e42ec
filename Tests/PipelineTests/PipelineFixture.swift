import CascadeDomain
import CascadeService
import Foundation
import Kafka
import Postgres
import Synchronization
import TestSupport
import XCTest

/// A published message as the tests read it back from the broker.
struct Received {
    let message: KafkaMessage
    var json: JSONValue? { message.value.flatMap { try? JSONParser.parse($0) } }
    func header(_ name: String) -> String? { message.header(name)?.stringValue }

    var reportSource: ReportSource? { json?.reportSource }
}

extension JSONValue {
    /// The report a result record answers, from its `report` field.
    var reportSource: ReportSource? {
        guard let report = self["report"], let topic = report["topic"]?.stringValue,
              case .number(let partition)? = report["partition"], case .number(let offset)? = report["offset"],
              let p = Int32(partition), let o = Int64(offset) else { return nil }
        return ReportSource(topic: topic, partition: p, offset: o)
    }
}

/// Reads the three output topics on its own thread and keeps what arrived.
final class OutputReader: @unchecked Sendable {
    private let received = Mutex<[String: [Received]]>([:])
    private let stop = Latch<Void>()
    private let done = Latch<Void>()

    init(brokers: String, topics: [String]) throws {
        // Handed to the thread below and never touched here again: it stays on one thread.
        nonisolated(unsafe) let consumer = try KafkaConsumer(config: TestEnvironment.consumerConfig(brokers: brokers, group: TestEnvironment.unique("reader")))
        try consumer.subscribe(topics)
        let thread = Thread { [self] in
            while !stop.isOpen {
                guard let batch = try? consumer.poll(maxMessages: 500, timeoutMs: 100) else { continue }
                received.withLock { store in
                    for m in batch { store[m.topic, default: []].append(Received(message: m)) }
                }
            }
            try? consumer.close()
            done.open()
        }
        thread.start()
    }

    func close() {
        stop.open()
        done.wait()
    }

    func messages(_ topic: String) -> [Received] { received.withLock { $0[topic] ?? [] } }
}

/// Topics, registry and helpers shared by the end-to-end tests; each fixture has its own
/// topic names and model ids, so tests never see each other's data.
final class PipelineFixture {
    let brokers: String
    let databaseURL: String
    let id = TestEnvironment.unique("e2e").replacingOccurrences(of: "-", with: "")
    let topics: TopicNames
    let group: String
    let db: PostgresConnection
    let registry: RegistryStore
    let producer: KafkaProducer
    private(set) var reader: OutputReader

    /// `databaseURL` defaults to the test server's database; tests that break the database
    /// pass a private one.
    /// `readsDeadLetters: false` leaves the dead-letter topic unread until `readAllOutputs()`,
    /// so a measured drain does not pay for the test's own reading of it.
    init(databaseURL: String? = nil, brokers: String? = nil, createTopics: Bool = true, readsDeadLetters: Bool = true) throws {
        self.brokers = try brokers ?? TestEnvironment.brokers
        self.databaseURL = try databaseURL ?? TestEnvironment.databaseURL
        topics = TopicNames(reports: "\(id).reports", results: "\(id).results", requests: "\(id).requests", deadLetters: "\(id).dlq")
        group = "\(id)-cascade"
        db = try PostgresConnection(url: self.databaseURL)
        try Migrator.migrate(db)
        registry = RegistryStore(db: db)
        producer = try KafkaProducer(config: TestEnvironment.producerConfig(brokers: self.brokers))
        if createTopics { try Self.create(topics, on: self.brokers) }
        reader = try OutputReader(brokers: self.brokers, topics: [topics.results, topics.requests] + (readsDeadLetters ? [topics.deadLetters] : []))
    }

    /// Replaces the reader with one that reads all three output topics from their beginning.
    func readAllOutputs() throws {
        reader.close()
        reader = try OutputReader(brokers: brokers, topics: [topics.results, topics.requests, topics.deadLetters])
    }

    func createTopics() throws { try Self.create(topics, on: brokers) }

    private static func create(_ topics: TopicNames, on brokers: String) throws {
        let admin = try KafkaAdmin(config: TestEnvironment.producerConfig(brokers: brokers))
        try admin.createTopics(topics.all.map { ($0, 3) })
    }

    func close() {
        reader.close()
        try? producer.close()
    }

    /// The debug build, unless CASCADE_TEST_BINARY names another (`make faults` runs the release build).
    static var binary: String {
        ProcessInfo.processInfo.environment["CASCADE_TEST_BINARY"]
            ?? TestEnvironment.repositoryRoot.appendingPathComponent(".build/debug/cascade").path
    }

    /// Starts `cascade consume` as a separate process against this fixture's topics.
    func startConsumer(_ extra: [String] = [], environment: [String: String] = [:]) throws -> ChildProcess {
        let args = ["consume", "--brokers", brokers, "--database-url", databaseURL, "--group", group,
                    "--reports-topic", topics.reports, "--results-topic", topics.results,
                    "--requests-topic", topics.requests, "--dlq-topic", topics.deadLetters, "--topic-partitions", "0",
                    "--status-interval", "2", "--http-listen", "127.0.0.1:0",
                    "--kafka-config", "session.timeout.ms=6000", "--kafka-config", "heartbeat.interval.ms=1000",
                    "--kafka-config", "partition.assignment.strategy=range"]
            + (extra.contains("--auth") ? [] : ["--auth", "none"]) + extra
        let log = NSTemporaryDirectory() + "\(id)-consumer-\(UUID().uuidString.prefix(4)).log"
        return try ChildProcess(Self.binary, args, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
                                logPath: log)
    }

    // MARK: registry

    func model(_ name: String, actions: Set<JobType> = [.inference, .training], active: Bool = true) throws -> String {
        let modelId = "\(id)-\(name)"
        try registry.upsertModel(id: modelId, actions: actions)
        try registry.upsertVersion(modelId: modelId, version: "v1", status: active ? .active : .training)
        return modelId
    }

    @discardableResult
    func subscribe(_ source: String, _ target: String, action: JobType = .inference, input: InputSource = .triggerOutput,
                   stored: JSONValue? = nil, status: SubscriptionStatus = .active) throws -> EventSubscription {
        try registry.createSubscription(sourceModelId: source, trigger: .inferenceComplete, targetModelId: target, action: action,
                                        inputSource: input, input: stored, label: nil, status: status)
    }

    func startedJob(_ modelId: String, type: JobType = .inference) throws -> Job {
        try registry.createJob(id: UUID().uuidString.lowercased(), modelId: modelId, version: "v1", type: type, status: .started,
                               input: ["prompt": "p"])
    }

    // MARK: reports and answers

    func report(_ job: Job, status: String = "success", output: String? = #"{"uri":"s3://out"}"#, error: String? = nil,
                requestId: String? = nil) throws {
        var body = #"{"model_id":"\#(job.modelId)","model_version":"\#(job.modelVersion)","job_id":"\#(job.id)","status":"\#(status)""#
        if let output { body += #","output":\#(output)"# }
        if let error { body += #","error":\#(error)"# }
        body += "}"
        try send(key: job.id, value: body, requestId: requestId)
    }

    func send(key: String?, value: String, requestId: String? = nil, authorization: String? = nil) throws {
        var headers = requestId.map { [KafkaHeader("request-id", $0)] } ?? []
        if let authorization { headers.append(KafkaHeader("authorization", authorization)) }
        _ = try producer.sendAndWait([OutgoingMessage(topic: topics.reports, key: key, value: value, headers: headers)]).map { try $0.get() }
    }

    /// The result records for a job, waiting until at least `count` arrived.
    func results(for jobId: String, count: Int = 1, timeout: TimeInterval = 30) -> [JSONValue] {
        var found: [JSONValue] = []
        eventually(timeout: timeout) {
            found = reader.messages(topics.results).compactMap(\.json).filter { $0["job_id"]?.stringValue == jobId }
            return found.count >= count
        }
        return found
    }

    func requests(forSource jobId: String) -> [Received] {
        reader.messages(topics.requests).filter { $0.json?["trigger"]?["source_job_id"]?.stringValue == jobId }
    }

    func job(_ id: String) throws -> Job? { try registry.job(id: id) }

    func count(_ sql: String, _ params: [any PostgresBindable] = []) throws -> Int64 {
        try db.query(sql, params).first!.int("n")
    }
}
