import Dispatch
import Metrics
import XCTest

final class ConcurrencyTests: XCTestCase {
    func testUpdatesFromManyThreadsAreAllCountedWhileScrapesRun() throws {
        let threads = 4, iterations = 50_000
        let registry = MetricsRegistry()
        let counter = registry.counter("ops_total", help: "Ops.")
        let gauge = registry.gauge("in_flight", help: "In flight.")
        let histogram = registry.histogram("size", help: "Size.", buckets: [0, 1])
        let perThread = registry.counter("thread_ops_total", help: "Ops per thread parity.", labelNames: ["parity"])

        let workers = DispatchGroup()
        for t in 0..<threads {
            DispatchQueue.global().async(group: workers) {
                let mine = perThread.labels(t % 2 == 0 ? "even" : "odd")
                for i in 0..<iterations {
                    counter.increment()
                    gauge.add(1)
                    histogram.observe(Double(i % 3))  // 0, 1, 2 in turn: one of each per bucket
                    mine.increment()
                    gauge.add(-1)
                }
            }
        }
        repeat {
            let text = registry.render()
            // A scrape sees each histogram consistently: its count is its +Inf bucket.
            let lines = text.split(separator: "\n")
            let inf = lines.first { $0.hasPrefix(#"size_bucket{le="+Inf"}"#) }?.split(separator: " ").last
            let count = lines.first { $0.hasPrefix("size_count ") }?.split(separator: " ").last
            XCTAssertEqual(inf, count)
        } while workers.wait(timeout: .now()) == .timedOut

        let total = Double(threads * iterations)
        XCTAssertEqual(counter.value, total)
        XCTAssertEqual(gauge.value, 0)
        XCTAssertEqual(perThread.labels("even").value + perThread.labels("odd").value, total)
        XCTAssertEqual(perThread.labels("even").value, total / 2)
        let observed = (0..<iterations).map { Double($0 % 3) }
        let atMost = { (bound: Double) in observed.filter { $0 <= bound }.count * threads }
        let histogramLines = registry.render().split(separator: "\n").filter { $0.hasPrefix("size_") }
        XCTAssertEqual(histogramLines, [
            "size_bucket{le=\"0\"} \(atMost(0))", "size_bucket{le=\"1\"} \(atMost(1))",
            "size_bucket{le=\"+Inf\"} \(threads * iterations)",
            "size_sum \(Int(observed.reduce(0, +)) * threads)", "size_count \(threads * iterations)",
        ])
    }
}
