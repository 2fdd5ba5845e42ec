import CascadeDomain
import CascadeService
import Foundation
import Kafka
import Metrics
import Postgres
import Synchronization
import KafkaMock

// cascade-bench: see BenchOptions.usage. Progress goes to stderr; the table and JSON lines to stdout.

let options = BenchOptions.parse(Array(CommandLine.arguments.dropFirst()))
let runId = String(UUID().uuidString.prefix(6)).lowercased()
let db = try PostgresConnection(url: options.databaseURL)
try Migrator.migrate(db)
let mainBroker = try BenchBroker.main(options.brokers)

let pgSettings = try db.query("SELECT current_setting('fsync') AS f, current_setting('synchronous_commit') AS s").first!
let context: [(String, JSONValue)] = [
    ("machine", .string("\(ProcessInfo.processInfo.activeProcessorCount) cores, \(shell("uname -m")), \(shell("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs"))")),
    ("git_commit", .string(shell("git rev-parse --short HEAD 2>/dev/null"))),
    ("librdkafka", .string(KafkaLibrary.versionString)),
    ("postgres_fsync", .string(try pgSettings.string("f"))),
    ("postgres_synchronous_commit", .string(try pgSettings.string("s"))),
    ("reports", .int(options.reports)),
    ("batch_size", .int(options.batchSize)),
    ("workers", .int(options.workers)),
    ("partitions", .int(options.partitions)),
    ("consumer_config", .string(options.consumerConfig.joined(separator: " "))),
]

// One registry for the whole run: a source model with exactly one active trigger_output
// subscription, so every successful report fires one downstream job.
let registry = RegistryStore(db: db)
let sourceModel = "bench-\(runId)-src", targetModel = "bench-\(runId)-dst"
try registry.upsertModel(id: sourceModel, actions: [.inference])
try registry.upsertModel(id: targetModel, actions: [.inference])
try registry.upsertVersion(modelId: sourceModel, version: "v1", status: .active)
try registry.upsertVersion(modelId: targetModel, version: "v1", status: .active)
_ = try registry.createSubscription(sourceModelId: sourceModel, trigger: .inferenceComplete, targetModelId: targetModel,
                                    action: .inference, inputSource: .triggerOutput, input: nil, label: "bench")

var figures: [(name: String, value: Double, unit: String, extra: [(String, JSONValue)])] = []
@MainActor func record(_ name: String, _ value: Double, _ unit: String, _ extra: [(String, JSONValue)] = []) {
    figures.append((name, value, unit, extra))
    say(String(format: "  %@: %.1f %@", name, value, unit))
}

@MainActor func clientConfig(_ settings: [String: String], brokers: String = options.brokers) throws -> KafkaConfig {
    var config = KafkaConfig(["bootstrap.servers": brokers, "log_level": "3"]).merging(KafkaConfig(settings))
    for property in options.consumerConfig where !property.hasPrefix("fetch.") { try config.apply(override: property) }
    return config
}

@MainActor func successCount(_ n: Int) -> Int { (0..<n).filter { Double($0 % 100) < options.successRatio * 100 }.count }

// MARK: PG-bound baseline

@MainActor func runBaseline() throws {
    let scenario = Scenario("base", runId: runId, sourceModel: sourceModel)
    say("baseline: seeding \(options.reports) jobs")
    try scenario.seedJobs(db, count: options.reports)
    var settings = ServiceSettings(brokers: options.brokers, databaseURL: options.databaseURL)
    settings.topics = scenario.topics
    // All encoding done beforehand, as a consumer would have the bytes already.
    let messages = (0..<options.reports).map { i in
        KafkaMessage(topic: scenario.topics.reports, partition: Int32(i % options.partitions), offset: Int64(i / options.partitions),
                     key: Array(scenario.jobId(i).utf8),
                     value: Array(scenario.reportValue(i, success: scenario.isSuccess(i, ratio: options.successRatio)).utf8),
                     headers: [], timestampMs: nil)
    }
    // As many connections in parallel as the drain has workers, each with its own share of the
    // partitions: the ceiling the database allows to the same parallelism, not to one loop.
    say("baseline: applying in batches of \(options.batchSize) on \(options.workers) connection(s)")
    let shares = (0..<options.workers).map { w in messages.filter { Int($0.partition) % options.workers == w } }
    let baselines = try shares.map { _ in DatabaseBaseline(db: try PostgresConnection(url: options.databaseURL), settings: settings) }
    let failures = Mutex<[String]>([])
    let start = Date()
    DispatchQueue.concurrentPerform(iterations: shares.count) { w in
        var index = 0
        while index < shares[w].count {
            let end = min(index + options.batchSize, shares[w].count)
            do { try baselines[w].apply(Array(shares[w][index..<end])) } catch {
                failures.withLock { $0.append("\(error)") }
                return
            }
            index = end
        }
    }
    if let failure = failures.withLock({ $0.first }) { fail("baseline: \(failure)") }
    let seconds = Date().timeIntervalSince(start)
    let problems = try scenario.verify(db, count: options.reports, successes: successCount(options.reports))
    if !problems.isEmpty { fail("baseline end state wrong: \(problems.joined(separator: "; "))") }
    record("pg_bound_reports_per_s", Double(options.reports) / seconds, "reports/s", [("seconds", .number(String(format: "%.3f", seconds)))])
}

// MARK: drains

/// One drain's figures. WAL is what PostgreSQL wrote from just before the consumer started
/// until it had stopped (its last deletes included), whoever wrote it: autovacuum of earlier
/// phases' rows too. `walFrom`/`walTo` are the LSNs, for `pg_waldump --stats` over the same
/// range; `fullPageImages` counts the pages written whole (first change after a checkpoint).
struct DrainRun {
    let rate: Double
    let rssKB: [Int]
    let cpuSeconds: Double
    let walBytes: Int64
    let fullPageImages: Int64
    let walFrom: String, walTo: String
}

/// Pre-loads a backlog, starts `cascade consume`, and measures from the first answer to the last.
/// With `scraped`, `/metrics` is read every second during the drain, as Prometheus would. Each
/// success fires `firedPerSuccess` subscriptions of `source`.
@MainActor func runDrain(_ name: String, count: Int, batchSize: Int, scraped: Bool = false, auth: BenchTokens? = nil,
                         source: String = sourceModel, firedPerSuccess: Int = 1) throws -> DrainRun {
    let scenario = Scenario(name, runId: runId, sourceModel: source)
    try preload(scenario, count: count, auth: auth)
    let successes = successCount(count)
    let fired = successes * firedPerSuccess
    let counter = try OutputCounter(brokers: options.brokers, topics: [scenario.topics.results, scenario.topics.requests],
                                    group: "bench-\(runId)-\(name)-counter", overrides: options.consumerConfig)
    say("\(name): draining with batch size \(batchSize)")
    let walFrom = try currentWAL(), imagesBefore = try fullPageImages()
    let consumer = try scenario.startConsumer(options, brokers: options.brokers, batchSize: batchSize,
                                              auth: auth?.consumerArguments ?? ["--auth", "none"])
    let memory = MemorySampler(pid: consumer.pid)
    let scraper = scraped ? try MetricsScraper(consumer) : nil
    let deadline = Date().addingTimeInterval(Double(count) / 50 + 180)
    while counter.count(scenario.topics.results) < count || counter.count(scenario.topics.requests) < fired {
        if Date() > deadline { fail("\(name): not drained in time; consumer log: \(consumer.logPath)") }
        Thread.sleep(forTimeInterval: 0.02)
    }
    let state = counter.snapshot
    let rss = memory.stop()
    // From the process's start: its start-up (connect, migrate, join) is a small part of this.
    let cpu = processCPUSeconds(pid: consumer.pid) ?? .nan
    if let scraper {
        let (scrapes, failures) = scraper.stop()
        say("\(name): \(scrapes) scrapes of /metrics, \(failures) failed")
        if scrapes == 0 || failures > 0 { fail("\(name): scraping failed; consumer log: \(consumer.logPath)") }
    }
    consumer.signal(SIGTERM)
    consumer.wait()
    let walTo = try currentWAL(), images = try fullPageImages() - imagesBefore
    let walBytes = try db.query("SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::bigint AS n", [walTo, walFrom]).first!.int("n")
    say("\(name): WAL \(walFrom)..\(walTo), \(walBytes / Int64(count)) bytes per report")
    counter.stop()
    let seconds = state.lastArrival!.timeIntervalSince(state.firstArrival!)
    var problems = try scenario.verify(db, count: count, successes: successes, firedPerSuccess: firedPerSuccess)
    if state.counts[scenario.topics.results] != count { problems.append("\(state.counts[scenario.topics.results] ?? 0) result records") }
    if state.counts[scenario.topics.requests] != fired { problems.append("\(state.counts[scenario.topics.requests] ?? 0) requests, expected \(fired)") }
    if !problems.isEmpty { fail("\(name): end state wrong: \(problems.joined(separator: "; "))") }
    return DrainRun(rate: Double(count) / seconds, rssKB: rss, cpuSeconds: cpu, walBytes: walBytes, fullPageImages: images,
                    walFrom: walFrom, walTo: walTo)
}

/// Seeds `count` started jobs and produces a report for each.
@MainActor func preload(_ scenario: Scenario, count: Int, auth: BenchTokens? = nil) throws {
    try scenario.createTopics(on: mainBroker, partitions: options.partitions)
    say("\(scenario.name): seeding \(count) jobs and producing \(count) reports")
    try scenario.seedJobs(db, count: count)
    let producer = try KafkaProducer(config: clientConfig(["linger.ms": "20"]))
    var pending: [OutgoingMessage] = []
    for i in 0..<count {
        pending.append(OutgoingMessage(topic: scenario.topics.reports, key: scenario.jobId(i),
                                       value: scenario.reportValue(i, success: scenario.isSuccess(i, ratio: options.successRatio)),
                                       headers: auth.map { [KafkaHeader("authorization", $0.rs256[i % $0.rs256.count])] } ?? []))
        if pending.count == 20_000 || i == count - 1 {
            for r in try producer.sendAndWait(pending) { _ = try r.get() }
            pending.removeAll(keepingCapacity: true)
        }
    }
    try producer.close()
}

/// The long memory mode's drain. Reading millions of outputs back from Tansu is slower than the
/// drain itself (its fetch lists every stored batch), so the drain's end is Cascade's own count
/// of answered reports (`/metrics`) with the outbox empty; the database's end state is checked.
/// RSS is sampled from the consumer's start to that end.
@MainActor func runMemoryDrain(count: Int) throws -> (rate: Double, rssKB: [Int]) {
    let scenario = Scenario("memory", runId: runId, sourceModel: sourceModel)
    try preload(scenario, count: count)
    say("memory: draining with batch size \(options.batchSize)")
    let consumer = try scenario.startConsumer(options, brokers: options.brokers, batchSize: options.batchSize)
    let memory = MemorySampler(pid: consumer.pid)
    let port = try MetricsScraper.port(of: consumer)
    let deadline = Date().addingTimeInterval(Double(count) / 1_000 + 600)
    var first: Date?
    while true {
        if Date() > deadline { fail("memory: not drained in time; consumer log: \(consumer.logPath)") }
        Thread.sleep(forTimeInterval: 1)
        let answered = MetricsScraper.answeredReports(port: port) ?? 0
        if answered > 0 && first == nil { first = Date() }
        if answered >= count, try db.query("SELECT count(*) AS n FROM outbox").first!.int("n") == 0 { break }
    }
    let seconds = Date().timeIntervalSince(first!)
    let rss = memory.stop()
    consumer.signal(SIGTERM)
    consumer.wait()
    let problems = try scenario.verify(db, count: count, successes: successCount(count))
    if !problems.isEmpty { fail("memory: end state wrong: \(problems.joined(separator: "; "))") }
    return (Double(count) / seconds, rss)
}

@MainActor func currentWAL() throws -> String { try db.query("SELECT pg_current_wal_insert_lsn()::text AS lsn").first!.string("lsn") }
@MainActor func fullPageImages() throws -> Int64 { try db.query("SELECT wal_fpi AS n FROM pg_stat_wal").first!.int("n") }

// MARK: latency

/// Produces `latencyRate` reports a second for `latencySeconds` to `topic`, each carrying its
/// send time, and returns the arrival delays the counter saw and the delays until the output
/// was produced, each sorted.
@MainActor func steadyLoad(_ scenario: Scenario, on broker: BenchBroker, topic: String, counter: OutputCounter, expect: Int,
                           countedTopic: String) throws -> (arrived: [Double], produced: [Double]) {
    let producer = try KafkaProducer(config: clientConfig(["linger.ms": "5"], brokers: broker.bootstrapServers))  // librdkafka's default, as a fleet would have it
    let start = Date()
    for i in 0..<expect {
        let due = start.addingTimeInterval(Double(i) / Double(options.latencyRate))
        let wait = due.timeIntervalSinceNow
        if wait > 0 { Thread.sleep(forTimeInterval: wait) }
        let sentUs = Int64(Date().timeIntervalSince1970 * 1e6)
        try producer.send(OutgoingMessage(topic: topic, key: scenario.jobId(i),
                                          value: scenario.reportValue(i, success: true, sentUs: sentUs))) { _ in }
    }
    try producer.close()
    let deadline = Date().addingTimeInterval(60)
    while counter.count(countedTopic) < expect && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    let state = counter.snapshot
    return (state.latenciesMs.sorted(), state.producedAfterMs.sorted())
}

/// The same load twice: through a bare passthrough (the broker floor), then through Cascade.
@MainActor func runLatency(on broker: BenchBroker) throws {
    let count = options.latencyRate * options.latencySeconds
    let extra: [(String, JSONValue)] = [("rate_per_s", .int(options.latencyRate)), ("seconds", .int(options.latencySeconds)),
                                        ("broker", .string(broker.figurePrefix.isEmpty ? "main" : "librdkafka mock cluster")),
                                        ("broker_client_config", .string(broker.clientConfig.joined(separator: " ")))]
    let servers = broker.bootstrapServers
    let overrides = options.consumerConfig + broker.clientConfig
    let label = broker.figurePrefix.isEmpty ? "latency" : "latency (mock cluster)"
    func figure(_ name: String, _ value: Double) { record(broker.figurePrefix + name, value, "ms", extra) }

    let floor = Scenario("\(broker.figurePrefix)floor", runId: runId, sourceModel: sourceModel)
    try floor.createTopics(on: broker, partitions: options.partitions)
    let floorCounter = try OutputCounter(brokers: servers, topics: [floor.topics.results], group: "bench-\(runId)-\(floor.name)-counter",
                                         overrides: overrides)
    var consumerConfig = KafkaConfig(["bootstrap.servers": servers, "group.id": "bench-\(runId)-\(floor.name)",
                                      "session.timeout.ms": "6000", "heartbeat.interval.ms": "1000", "log_level": "3"])
    for property in overrides { try consumerConfig.apply(override: property) }
    let passthrough = try Passthrough(consumerConfig: consumerConfig, producerConfig: clientConfig(["linger.ms": ServiceSettings.relayLingerMs], brokers: servers),
                                      from: floor.topics.reports, to: floor.topics.results)
    Thread.sleep(forTimeInterval: 5)  // group join
    say("\(label) floor: \(options.latencyRate) reports/s for \(options.latencySeconds) s through a bare passthrough")
    let (floorLatencies, floorProduced) = try steadyLoad(floor, on: broker, topic: floor.topics.reports, counter: floorCounter,
                                                         expect: count, countedTopic: floor.topics.results)
    passthrough.stop()
    floorCounter.stop()
    if floorLatencies.count != count { fail("\(label) floor: \(floorLatencies.count) of \(count) messages arrived") }
    figure("broker_floor_p50_ms", percentile(floorLatencies, 50))
    figure("broker_floor_p99_ms", percentile(floorLatencies, 99))

    let scenario = Scenario("\(broker.figurePrefix)lat", runId: runId, sourceModel: sourceModel)
    try scenario.createTopics(on: broker, partitions: options.partitions)
    try scenario.seedJobs(db, count: count)
    let counter = try OutputCounter(brokers: servers, topics: [scenario.topics.requests], group: "bench-\(runId)-\(scenario.name)-counter",
                                    overrides: overrides)
    let consumer = try scenario.startConsumer(options, brokers: servers, batchSize: options.batchSize,
                                              extraConfig: broker.clientConfig)
    // Wait until the consumer owns its partitions, so the figures measure steady state, not the join.
    let joinDeadline = Date().addingTimeInterval(60)
    while !consumer.log.contains(#""msg":"partitions assigned""#) {
        if Date() > joinDeadline { fail("\(label): the consumer never joined; log: \(consumer.logPath)") }
        Thread.sleep(forTimeInterval: 0.1)
    }
    Thread.sleep(forTimeInterval: 2)
    say("\(label): \(options.latencyRate) reports/s for \(options.latencySeconds) s through Cascade")
    let (latencies, produced) = try steadyLoad(scenario, on: broker, topic: scenario.topics.reports, counter: counter, expect: count,
                                               countedTopic: scenario.topics.requests)
    consumer.signal(SIGTERM)
    consumer.wait()
    counter.stop()
    if latencies.count != count { fail("\(label): \(latencies.count) of \(count) downstream requests arrived") }
    figure("latency_p50_ms", percentile(latencies, 50))
    figure("latency_p99_ms", percentile(latencies, 99))
    figure("latency_max_ms", latencies.last ?? .nan)
    figure("cascade_added_p50_ms", percentile(latencies, 50) - percentile(floorLatencies, 50))
    figure("cascade_added_p99_ms", percentile(latencies, 99) - percentile(floorLatencies, 99))
    // Up to the output's produce call: the inbound hop plus the processing, without the outbound
    // hop (Tansu's produce-to-fetch time grows with the topic; see docs/BENCHMARKS.md).
    figure("floor_to_produce_p50_ms", percentile(floorProduced, 50))
    figure("floor_to_produce_p99_ms", percentile(floorProduced, 99))
    figure("cascade_to_produce_p50_ms", percentile(produced, 50))
    figure("cascade_to_produce_p99_ms", percentile(produced, 99))
}

// MARK: run

say("cascade-bench run \(runId): \(context.map { "\($0.0)=\($0.1)" }.joined(separator: " "))")
// Latency first: the drains leave the database and the broker busy (vacuum, memory) for a while.
if !options.skip.contains("latency") { try runLatency(on: mainBroker) }
// The same on a broker that adds almost nothing, so Cascade's own latency is visible.
if !options.skip.contains("mock-latency") {
    let cluster = try MockKafkaCluster(brokers: 1)
    try runLatency(on: .mock(cluster))
}
if !options.skip.contains("json") {
    // The same report bytes as the drain's, decoded three ways in one thread.
    let scenario = Scenario("json", runId: runId, sourceModel: sourceModel)
    let reports = (0..<50_000).map { Array(scenario.reportValue($0, success: scenario.isSuccess($0, ratio: options.successRatio)).utf8) }
    say("json: decoding \(reports.count) reports with JSONParser, JSONSerialization and JSONDecoder")
    let json = JSONComparison.run(reports: reports)
    record("json_parser_ns_per_report", json.parserNs, "ns")
    record("json_serialization_ns_per_report", json.serializationNs, "ns")
    record("json_decoder_ns_per_report", json.decoderNs, "ns")
    record("json_serialization_vs_parser", json.serializationNs / json.parserNs, "x")
    record("json_decoder_vs_parser", json.decoderNs / json.parserNs, "x")
}
if !options.skip.contains("failpoints") {
    // An unset failpoint is one load of an empty dictionary; a report meets one per outgoing
    // message (the relay's delivery callback) plus a few per batch (docs/RELIABILITY.md).
    let calls = 20_000_000
    let started = ContinuousClock.now
    for i in 0..<calls { Failpoints.reach(i & 1 == 0 ? .relayAfterProduce : .afterCommitBeforeMark) }
    let elapsed = ContinuousClock.now - started
    let ns = (Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9) / Double(calls)
    record("failpoint_unset_ns_per_check", ns, "ns", [("calls", .int(calls))])
}
if !options.skip.contains("json-shapes") {
    say("json-shapes: wide objects, long strings, deep nesting and many numbers near 1 MiB, at full size and a quarter")
    for shape in JSONShapes.run() {
        record("json_\(shape.shape)_validate_ms", shape.validateMs, "ms", [
            ("bytes", .int(shape.bytes)), ("parse_ms", .number(String(format: "%.2f", shape.parseMs))),
            ("write_output_ms", .number(String(format: "%.2f", shape.writeMs))),
            ("growth_at_4x_size", .number(String(format: "%.2f", shape.growth))),
        ])
    }
}
if !options.skip.contains("baseline") { try runBaseline() }
if !options.skip.contains("drain") {
    let run = try runDrain("drain", count: options.reports, batchSize: options.batchSize)
    let (rate, rss, cpu) = (run.rate, run.rssKB, run.cpuSeconds)
    record("drain_reports_per_s", rate, "reports/s")
    // PostgreSQL's WAL over the drain (docs/BENCHMARKS.md: where the bytes go).
    record("wal_bytes_per_report", Double(run.walBytes) / Double(options.reports), "bytes", [
        ("wal_from", .string(run.walFrom)), ("wal_to", .string(run.walTo)), ("full_page_images", .int(run.fullPageImages)),
    ])
    // What a member costs: the figures behind a pod's CPU request (docs/SCALING.md).
    record("cascade_cpu_us_per_report", cpu * 1e6 / Double(options.reports), "µs", [
        ("cpu_seconds", .number(String(format: "%.2f", cpu))),
        ("cores_while_draining", .number(String(format: "%.2f", cpu * rate / Double(options.reports)))),
    ])
    let peakMB = Double(rss.max() ?? 0) / 1024
    let mid = rss.isEmpty ? 0 : Double(rss[rss.count / 2]) / 1024, last = Double(rss.last ?? 0) / 1024
    record("drain_peak_rss_mb", peakMB, "MB", [("mid_drain_rss_mb", .number(String(format: "%.1f", mid))),
                                                ("end_rss_mb", .number(String(format: "%.1f", last))),
                                                ("samples", .int(rss.count))])
}
if !options.skip.contains("drain-scraped") && options.scrapePairs > 0 {
    // The same drain with /metrics read every second and without, alternating so that neither
    // always runs on the fuller database: scraping must cost nothing measurable.
    var scraped: [Double] = [], plain: [Double] = []
    for pair in 0..<options.scrapePairs {
        scraped.append(try runDrain("scraped\(pair)", count: options.reports, batchSize: options.batchSize, scraped: true).rate)
        plain.append(try runDrain("plain\(pair)", count: options.reports, batchSize: options.batchSize).rate)
    }
    func runs(_ rates: [Double]) -> JSONValue { .array(rates.map { .number(String(format: "%.0f", $0)) }) }
    let extra: [(String, JSONValue)] = [("scrape_interval_s", .int(1)), ("scraped_runs", runs(scraped)), ("unscraped_runs", runs(plain))]
    record("drain_scraped_reports_per_s", median(scraped), "reports/s", extra)
    record("drain_unscraped_reports_per_s", median(plain), "reports/s", extra)
    record("drain_scraped_vs_unscraped", median(scraped) / median(plain), "x", extra)
}
if !options.skip.contains("drain-auth") || !options.skip.contains("jwt-verify") {
    let tokens = try BenchTokens.mint(count: options.authTokens)
    if !options.skip.contains("jwt-verify") {
        // One verification of each token on a fresh verifier is cold (hash, parse, signature,
        // claims); the second is the cache's answer, what a handler's reused token costs.
        for (name, set) in [("rs256", tokens.rs256), ("es256", tokens.es256)] {
            let (cold, cached) = try tokens.verificationCost(set)
            record("jwt_cold_verify_\(name)_us", cold, "µs", [("tokens", .int(set.count))])
            record("jwt_cached_verify_\(name)_us", cached, "µs", [("tokens", .int(set.count))])
        }
    }
    if !options.skip.contains("drain-auth") {
        // The same drain with --auth jwt (distinct RS256 tokens spread over the backlog) and with
        // --auth none, in ABBA order (later drains run on a fuller database): verification must
        // cost no more than 5 %. Cascade's CPU per report is the steadier comparison.
        var jwt: [Double] = [], none: [Double] = [], jwtCPU: [Double] = [], noneCPU: [Double] = []
        for pair in 0..<options.authPairs {
            for withAuth in pair % 2 == 0 ? [true, false] : [false, true] {
                let run = try runDrain(withAuth ? "jwt\(pair)" : "noauth\(pair)", count: options.reports, batchSize: options.batchSize,
                                       auth: withAuth ? tokens : nil)
                let cpu = run.cpuSeconds * 1e6 / Double(options.reports)
                if withAuth { jwt.append(run.rate); jwtCPU.append(cpu) } else { none.append(run.rate); noneCPU.append(cpu) }
            }
        }
        func runs(_ values: [Double], _ format: String = "%.0f") -> JSONValue { .array(values.map { .number(String(format: format, $0)) }) }
        let extra: [(String, JSONValue)] = [("tokens", .int(tokens.rs256.count)), ("jwt_runs", runs(jwt)), ("none_runs", runs(none)),
                                            ("jwt_cpu_us_runs", runs(jwtCPU, "%.1f")), ("none_cpu_us_runs", runs(noneCPU, "%.1f"))]
        record("drain_auth_jwt_reports_per_s", median(jwt), "reports/s", extra)
        record("drain_auth_none_reports_per_s", median(none), "reports/s", extra)
        record("drain_jwt_vs_none", median(jwt) / median(none), "x", extra)
        record("cascade_cpu_us_per_report_jwt_vs_none", median(jwtCPU) / median(noneCPU), "x", extra)
    }
}
if options.memoryReports > 0 {
    // The long mode (`make bench-memory`): is memory flat over a backlog far larger than any
    // buffer? The first tenth of the samples is the warm-up (caches, librdkafka's queues
    // filling); growth compares the median of the second tenth with that of the last.
    let run = try runMemoryDrain(count: options.memoryReports)
    let tenth = run.rssKB.count / 10
    guard tenth > 0 else { fail("memory: too few RSS samples (\(run.rssKB.count))") }
    let warm = run.rssKB.dropFirst(tenth)
    func medianMB(_ kb: ArraySlice<Int>) -> Double { Double(kb.sorted()[kb.count / 2]) / 1024 }
    let early = medianMB(run.rssKB[tenth..<2 * tenth]), late = medianMB(run.rssKB.suffix(tenth))
    let low = Double(warm.min()!) / 1024, high = Double(warm.max()!) / 1024
    let extra: [(String, JSONValue)] = [
        ("phase_reports", .int(options.memoryReports)), ("samples", .int(run.rssKB.count)),
        ("after_warm_up_min_mb", .number(String(format: "%.1f", low))), ("after_warm_up_max_mb", .number(String(format: "%.1f", high))),
        ("second_tenth_median_mb", .number(String(format: "%.1f", early))), ("last_tenth_median_mb", .number(String(format: "%.1f", late))),
        ("reports_per_s", .number(String(format: "%.0f", run.rate))),
    ]
    record("memory_backlog_peak_rss_mb", Double(run.rssKB.max()!) / 1024, "MB", extra)
    record("memory_backlog_rss_spread", (high - low) / low, "x", extra)
    record("memory_backlog_rss_growth", late / early - 1, "x", extra)
}
if !options.skip.contains("fanout") {
    // A wide cascade: each success fires `fanout` subscriptions, so the cost of one fired job is
    // known. The same-size drain with one subscription, just before, is the baseline.
    let fanSource = "bench-\(runId)-fan-src"
    try registry.upsertModel(id: fanSource, actions: [.inference])
    try registry.upsertVersion(modelId: fanSource, version: "v1", status: .active)
    for n in 0..<options.fanout {
        let target = "bench-\(runId)-fan-dst\(n)"
        try registry.upsertModel(id: target, actions: [.inference])
        try registry.upsertVersion(modelId: target, version: "v1", status: .active)
        _ = try registry.createSubscription(sourceModelId: fanSource, trigger: .inferenceComplete, targetModelId: target,
                                            action: .inference, inputSource: .triggerOutput, input: nil, label: "fan\(n)")
    }
    let count = options.fanoutReports
    let single = try runDrain("fan1", count: count, batchSize: options.batchSize)
    let wide = try runDrain("fan\(options.fanout)", count: count, batchSize: options.batchSize, source: fanSource,
                            firedPerSuccess: options.fanout)
    let fired = Double(successCount(count) * options.fanout), singleFired = Double(successCount(count))
    // The extra cost of each fired job beyond the first, from the two drains' difference.
    let extraJobs = fired - singleFired
    let extra: [(String, JSONValue)] = [
        ("phase_reports", .int(count)), ("subscriptions", .int(options.fanout)),
        ("reports_per_s", .number(String(format: "%.0f", wide.rate))), ("one_subscription_reports_per_s", .number(String(format: "%.0f", single.rate))),
    ]
    record("fanout_fired_jobs_per_s", wide.rate * fired / Double(count), "jobs/s", extra)
    record("fanout_cpu_us_per_fired_job", (wide.cpuSeconds - single.cpuSeconds) * 1e6 / extraJobs, "µs", extra)
    record("fanout_wal_bytes_per_fired_job", Double(wide.walBytes - single.walBytes) / extraJobs, "bytes", extra)
    record("fanout_wal_bytes_per_report", Double(wide.walBytes) / Double(count), "bytes", extra + [
        ("one_subscription_wal_bytes_per_report", .number(String(format: "%.0f", Double(single.walBytes) / Double(count)))),
    ])
    record("fanout_cpu_us_per_report", wide.cpuSeconds * 1e6 / Double(count), "µs", extra + [
        ("one_subscription_cpu_us_per_report", .number(String(format: "%.1f", single.cpuSeconds * 1e6 / Double(count)))),
    ])
}
if !options.skip.contains("unbatched") {
    let rate = try runDrain("unbatched", count: options.unbatchedReports, batchSize: 1).rate
    record("unbatched_reports_per_s", rate, "reports/s", [("phase_reports", .int(options.unbatchedReports))])
}

@MainActor func figure(_ name: String) -> Double? { figures.first { $0.name == name }?.value }
if let drain = figure("drain_reports_per_s"), let base = figure("pg_bound_reports_per_s") {
    record("drain_vs_pg_bound", drain / base, "x")
}
if let drain = figure("drain_reports_per_s"), let unbatched = figure("unbatched_reports_per_s") {
    record("drain_vs_unbatched", drain / unbatched, "x")
}

// The table, then one JSON line per figure.
print("| figure | value |\n|---|---|")
for f in figures { print(String(format: "| %@ | %.2f %@ |", f.name, f.value, f.unit)) }
var lines = ""
for f in figures {
    let members: [(key: String, value: JSONValue)] = [("figure", .string(f.name)), ("value", .number(String(format: "%.3f", f.value))),
                                                      ("unit", .string(f.unit))] + f.extra.map { (key: $0.0, value: $0.1) }
        + context.map { (key: $0.0, value: $0.1) }
    lines += JSONValue.object(members).description + "\n"
}
print(lines, terminator: "")
if let path = options.jsonOut {
    if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    handle.seekToEndOfFile()
    handle.write(Data(lines.utf8))
    try handle.close()
}
