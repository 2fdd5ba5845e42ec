import Foundation

/// `cascade-bench` settings; every one has a flag so the figures can be reproduced exactly.
struct BenchOptions {
    var reports = 200_000
    var successRatio = 0.9
    var batchSize = 500
    var workers = 2
    var partitions = 6
    var unbatchedReports = 3_000
    /// The fan-out drains: `fanoutReports` reports whose successes each fire `fanout` subscriptions.
    var fanout = 20
    var fanoutReports = 20_000
    /// The long memory mode's backlog; 0 (the default) leaves it out.
    var memoryReports = 0
    /// Drains run after the main one, alternating scraped and not, to compare scraping's cost.
    var scrapePairs = 2
    /// Drains with `--auth jwt` (and `authTokens` distinct RS256 tokens) and with `--auth none`, alternating.
    var authPairs = 1
    var authTokens = 100
    var latencyRate = 1_000
    var latencySeconds = 30
    var brokers = ProcessInfo.processInfo.environment["CASCADE_BROKERS"] ?? ""
    var databaseURL = ProcessInfo.processInfo.environment["DATABASE_URL"]
    var cascadeBinary = ""
    var jsonOut: String?
    var skip: Set<String> = []
    /// librdkafka properties for every consumer the benchmark runs (cascade's and its own).
    var consumerConfig: [String] = []

    static let usage = """
        usage: cascade-bench [options]     (make bench runs it with the local services)

        Measures Cascade against a real broker and PostgreSQL: the PG-bound baseline, the
        batched drain, the unbatched drain, steady-load latency and the consumer's memory.

        options:
          --reports N             backlog size for the drain and the baseline (default 200000)
          --batch-size N          reports polled per round (default 500)
          --workers N             cascade's batch workers (default 2)
          --partitions N          report topic partitions (default 6)
          --unbatched-reports N   backlog for the batch-size-1 drain (default 3000)
          --fanout N              subscriptions each success fires in the fan-out drain (default 20)
          --fanout-reports N      backlog for the fan-out drain and its one-subscription baseline (default 20000)
          --memory-reports N      also drain a backlog of N and report whether memory stays flat (not by default;
                                  make bench-memory uses 5000000)
          --scrape-pairs N        drains with /metrics scraped every second and without, alternating (default 2 pairs)
          --auth-pairs N          drains with --auth jwt and with --auth none, alternating (default 1 pair)
          --auth-tokens N         distinct RS256 tokens spread over the --auth jwt drain's reports (default 100)
          --latency-rate N        reports per second in the latency run (default 1000)
          --latency-seconds N     length of the latency run (default 30)
          --brokers HOSTS         [env CASCADE_BROKERS]
          --database-url URL      [env DATABASE_URL]
          --cascade PATH          the cascade binary (default: next to this one)
          --json-out FILE         append the JSON lines to FILE as well
          --skip PHASES           comma-separated: failpoints,json,json-shapes,baseline,drain,drain-scraped,drain-auth,jwt-verify,fanout,unbatched,latency,mock-latency
          --kafka-config K=V      a librdkafka property for every client (repeatable). Tansu
                                  answers a fetch only when fetch.wait.max.ms runs out, so
                                  make bench passes fetch.wait.max.ms=5 (Kafka answers at once)
        """

    static func parse(_ args: [String]) -> BenchOptions {
        var o = BenchOptions()
        o.cascadeBinary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("cascade").path
        var i = 0
        func next() -> String {
            i += 1
            guard i < args.count else { fail("\(args[i - 1]) needs a value") }
            return args[i]
        }
        func int(_ s: String) -> Int {
            guard let v = Int(s), v > 0 else { fail("'\(s)' is not a positive whole number") }
            return v
        }
        while i < args.count {
            switch args[i] {
            case "--reports": o.reports = int(next())
            case "--batch-size": o.batchSize = int(next())
            case "--workers": o.workers = int(next())
            case "--partitions": o.partitions = int(next())
            case "--unbatched-reports": o.unbatchedReports = int(next())
            case "--fanout":
                o.fanout = int(next())
                guard o.fanout >= 2 else { fail("--fanout must be at least 2: the fan-out drain is compared with a one-subscription drain") }
            case "--fanout-reports": o.fanoutReports = int(next())
            case "--memory-reports": o.memoryReports = int(next())
            case "--scrape-pairs": o.scrapePairs = int(next())
            case "--auth-pairs": o.authPairs = int(next())
            case "--auth-tokens": o.authTokens = int(next())
            case "--latency-rate": o.latencyRate = int(next())
            case "--latency-seconds": o.latencySeconds = int(next())
            case "--brokers": o.brokers = next()
            case "--database-url": o.databaseURL = next()
            case "--cascade": o.cascadeBinary = next()
            case "--json-out": o.jsonOut = next()
            case "--skip": o.skip = Set(next().split(separator: ",").map(String.init))
            case "--kafka-config": o.consumerConfig.append(next())
            case "--help", "-h": print(usage); exit(0)
            default: fail("unknown option \(args[i])")
            }
            i += 1
        }
        if o.brokers.isEmpty { fail("--brokers (or CASCADE_BROKERS) is required") }
        return o
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("cascade-bench: \(message)\n".utf8))
    exit(2)
}
