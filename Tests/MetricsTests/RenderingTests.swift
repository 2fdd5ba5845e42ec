@testable import Metrics
import XCTest

final class RenderingTests: XCTestCase {
    func testASmallRegistryRendersExactlyInRegistrationOrderWithChildrenSortedByLabelValues() {
        let registry = MetricsRegistry()
        let reports = registry.counter("cascade_reports_total", help: "Reports consumed.")
        let outcomes = registry.counter("cascade_outcomes_total", help: "Outcomes by status.", labelNames: ["status", "code"])
        let backlog = registry.gauge("cascade_backlog", help: "Reports waiting.")
        let batch = registry.histogram("cascade_batch_size", help: "Reports per batch.", buckets: [1, 10, 100])
        registry.collect("cascade_lag", help: "Messages behind, per partition.", type: .gauge) {
            [Sample(labels: [("partition", "1")], 7), Sample(labels: [("partition", "0")], 2.5)]
        }
        reports.increment(by: 3)
        outcomes.labels("success", "200").increment()
        outcomes.labels("failure", "500").increment(by: 2)
        backlog.set(-4.5)
        for size in [1.0, 5, 50, 500] { batch.observe(size) }

        XCTAssertEqual(registry.render(), """
            # HELP cascade_reports_total Reports consumed.
            # TYPE cascade_reports_total counter
            cascade_reports_total 3
            # HELP cascade_outcomes_total Outcomes by status.
            # TYPE cascade_outcomes_total counter
            cascade_outcomes_total{status="failure",code="500"} 2
            cascade_outcomes_total{status="success",code="200"} 1
            # HELP cascade_backlog Reports waiting.
            # TYPE cascade_backlog gauge
            cascade_backlog -4.5
            # HELP cascade_batch_size Reports per batch.
            # TYPE cascade_batch_size histogram
            cascade_batch_size_bucket{le="1"} 1
            cascade_batch_size_bucket{le="10"} 2
            cascade_batch_size_bucket{le="100"} 3
            cascade_batch_size_bucket{le="+Inf"} 4
            cascade_batch_size_sum 556
            cascade_batch_size_count 4
            # HELP cascade_lag Messages behind, per partition.
            # TYPE cascade_lag gauge
            cascade_lag{partition="1"} 7
            cascade_lag{partition="0"} 2.5

            """)
    }

    func testChildrenRenderSortedByLabelValuesWhateverTheOrderTheyCameIn() {
        // Twenty children, so that a dictionary's order cannot pass for sorted by chance.
        let registry = MetricsRegistry()
        let depth = registry.gauge("depth", help: "Depth.", labelNames: ["queue", "shard"])
        let keys = (0..<20).map { ("q\($0 / 10)", "s\($0 % 10)") }
        for (queue, shard) in keys.reversed() { depth.labels(queue, shard).set(1) }
        let expected = keys.map { queue, shard in "depth{queue=\"\(queue)\",shard=\"\(shard)\"} 1" }
        XCTAssertEqual(registry.render().split(separator: "\n").dropFirst(2).map(String.init), expected)
    }

    func testAFamilyWithoutChildrenShowsItsHeaderAndAPlainMetricShowsZero() {
        let registry = MetricsRegistry()
        _ = registry.gauge("idle_workers", help: "Idle.", labelNames: ["pool"])
        _ = registry.counter("errors_total", help: "Errors.")
        XCTAssertEqual(registry.render(), """
            # HELP idle_workers Idle.
            # TYPE idle_workers gauge
            # HELP errors_total Errors.
            # TYPE errors_total counter
            errors_total 0

            """)
    }

    func testAnEmptyRegistryRendersNothing() {
        XCTAssertEqual(MetricsRegistry().render(), "")
    }

    func testALabeledHistogramPutsLeAfterItsOwnLabels() {
        let registry = MetricsRegistry()
        let latency = registry.histogram("latency_seconds", help: "Latency.", labelNames: ["route"], buckets: [0.005, 0.25])
        latency.labels("/jobs").observe(0.1)
        XCTAssertEqual(registry.render().split(separator: "\n").dropFirst(2), [
            #"latency_seconds_bucket{route="/jobs",le="0.005"} 0"#,
            #"latency_seconds_bucket{route="/jobs",le="0.25"} 1"#,
            #"latency_seconds_bucket{route="/jobs",le="+Inf"} 1"#,
            #"latency_seconds_sum{route="/jobs"} 0.1"#,
            #"latency_seconds_count{route="/jobs"} 1"#,
        ])
    }

    func testTheSameLabelValuesGiveTheSameChild() {
        let family = MetricsRegistry().counter("hits_total", help: "Hits.", labelNames: ["topic"])
        family.labels("a").increment(by: 2)
        family.labels("a").increment(by: 3)
        XCTAssertTrue(family.labels("a") === family.labels(["a"]))
        XCTAssertEqual(family.labels("a").value, 5)
        XCTAssertEqual(family.labels("b").value, 0)
    }

    func testACollectedHistogramWritesItsSuffixes() {
        let registry = MetricsRegistry()
        registry.collect("wait_seconds", help: "Waits.", type: .histogram) {
            [Sample(suffix: "_bucket", labels: [("le", "+Inf")], 2), Sample(suffix: "_sum", 0.5), Sample(suffix: "_count", 2)]
        }
        XCTAssertEqual(registry.render().split(separator: "\n").dropFirst(2),
                       [#"wait_seconds_bucket{le="+Inf"} 2"#, "wait_seconds_sum 0.5", "wait_seconds_count 2"])
    }

    func testCounterAndGaugeArithmetic() {
        let registry = MetricsRegistry()
        let counter = registry.counter("c_total", help: "C.")
        counter.increment()
        counter.increment(by: 4)
        counter.increment(by: 0.25)
        XCTAssertEqual(counter.value, 5.25)
        let gauge = registry.gauge("g", help: "G.")
        gauge.set(10)
        gauge.add(-2.5)
        XCTAssertEqual(gauge.value, 7.5)
    }

    func testTheContentTypeIsTheTextFormat004() {
        XCTAssertEqual(MetricsRegistry.contentType, "text/plain; version=0.0.4; charset=utf-8")
    }
}
