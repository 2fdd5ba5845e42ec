import Foundation
import Metrics
import XCTest

/// Our output read back by Prometheus' own Python client (`prometheus_client.parser`), so the
/// format is checked by a parser we did not write. CI is meant to install it (Debian's
/// python3-prometheus-client); without it, or without python3, the test is skipped.
final class PrometheusParserTests: XCTestCase {
    /// Reads the exposition at argv[1]; checks each family's name, type and sample count against
    /// argv[2], and each sample listed in argv[3] (name, labels, value as text) against its value.
    private static let script = #"""
    import json, math, sys
    from prometheus_client.parser import text_string_to_metric_families
    families = list(text_string_to_metric_families(open(sys.argv[1], encoding="utf-8").read()))
    got = [[f.name, f.type, len(f.samples)] for f in families]
    if got != json.loads(sys.argv[2]):
        sys.exit("families differ: %s" % got)
    samples = [(s.name, s.labels, s.value) for f in families for s in f.samples]
    for name, labels, text in json.loads(sys.argv[3]):
        values = [v for n, l, v in samples if n == name and l == labels]
        want = float(text)
        if len(values) != 1 or not (values[0] == want or (math.isnan(want) and math.isnan(values[0]))):
            sys.exit("sample %s %s: want %s, got %s" % (name, labels, text, values))
    print("%d families, %d samples" % (len(families), len(samples)))
    """#

    func testPrometheusParsesEveryKindAndEdgeCase() throws {
        guard run(["python3", "-c", "import prometheus_client.parser"]).status == 0 else {
            throw XCTSkip("python3 with prometheus_client is not installed (apt-get install python3-prometheus-client, or pip install prometheus_client)")
        }
        let registry = MetricsRegistry()
        registry.counter("plain_total", help: "A \"plain\" counter\nover two lines, C:\\temp.").increment(by: 3)
        let requests = registry.counter("requests_total", help: "By path.", labelNames: ["path", "code"])
        requests.labels("a\\b\"c\nd", "200").increment(by: 0.5)
        requests.labels("/ünïcode 🚀", "500").increment()
        _ = registry.counter("never_total", help: "No children yet.", labelNames: ["topic"])
        registry.gauge("nan_gauge", help: "NaN.").set(.nan)
        let extremes = registry.gauge("extremes", help: "Infinities and big numbers.", labelNames: ["which"])
        extremes.labels("pos").set(.infinity)
        extremes.labels("neg").set(-.infinity)
        extremes.labels("big").set(1e300)
        extremes.labels("tiny").set(-1e-300)
        extremes.labels("exact").set(0x1p60)
        let latency = registry.histogram("latency_seconds", help: "Latency.", buckets: [0.005, 0.1, 1])
        [0.005, 0.05, 3].forEach(latency.observe)
        registry.histogram("batch_size", help: "Per topic.", labelNames: ["topic"], buckets: [10]).labels("t").observe(7)
        registry.collect("lag", help: "Collected.", type: .gauge) { [Sample(labels: [("partition", "0")], 12)] }
        registry.collect("anything", help: "", type: .untyped) { [Sample(1)] }
        ProcessMetrics.register(in: registry)

        var families: [[Any]] = [["plain", "counter", 1], ["requests", "counter", 2], ["never", "counter", 0],
                                 ["nan_gauge", "gauge", 1], ["extremes", "gauge", 5], ["latency_seconds", "histogram", 6],
                                 ["batch_size", "histogram", 4], ["lag", "gauge", 1],
                                 ["anything", "unknown", 1]]  // the Python client's name for untyped
        #if os(Linux)
        families += [["process_cpu_seconds", "counter", 1], ["process_open_fds", "gauge", 1], ["process_max_fds", "gauge", 1],
                     ["process_virtual_memory_bytes", "gauge", 1], ["process_resident_memory_bytes", "gauge", 1],
                     ["process_start_time_seconds", "gauge", 1], ["process_threads", "gauge", 1]]
        #endif
        let samples: [[Any]] = [
            ["plain_total", [:], "3"],
            ["requests_total", ["path": "a\\b\"c\nd", "code": "200"], "0.5"],
            ["requests_total", ["path": "/ünïcode 🚀", "code": "500"], "1"],
            ["nan_gauge", [:], "nan"],
            ["extremes", ["which": "pos"], "inf"], ["extremes", ["which": "neg"], "-inf"],
            ["extremes", ["which": "big"], "1e300"], ["extremes", ["which": "tiny"], "-1e-300"],
            ["extremes", ["which": "exact"], "1152921504606846976"],
            ["latency_seconds_bucket", ["le": "0.005"], "1"], ["latency_seconds_bucket", ["le": "1"], "2"],
            ["latency_seconds_bucket", ["le": "+Inf"], "3"], ["latency_seconds_sum", [:], "3.055"],
            ["latency_seconds_count", [:], "3"],
            ["batch_size_bucket", ["topic": "t", "le": "10"], "1"], ["batch_size_sum", ["topic": "t"], "7"],
            ["lag", ["partition": "0"], "12"], ["anything", [:], "1"],
        ]

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID()).txt")
        try registry.render().write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = run(["python3", "-c", Self.script, file.path, try json(families), try json(samples)])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertEqual(result.output, "\(families.count) families, \(families.map { $0[2] as! Int }.reduce(0, +)) samples\n")
    }

    private func json(_ value: [[Any]]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: value), as: UTF8.self)
    }

    /// Runs a command found on PATH; its exit status and its output and errors together.
    private func run(_ arguments: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return (-1, "\(error)") }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}
