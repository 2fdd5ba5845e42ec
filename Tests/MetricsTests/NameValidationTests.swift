import Metrics
import XCTest

final class NameValidationTests: XCTestCase {
    func testMetricNames() {
        for name in ["a", "A", "_x", ":x", "cascade_reports_total", "a:b_c9", "rpc:latency_seconds"] {
            XCTAssertTrue(MetricName.isValid(name), name)
        }
        for name in ["", "9a", "a-b", "a b", "a.b", "é", "a\n", "a{b}"] {
            XCTAssertFalse(MetricName.isValid(name), name)
        }
    }

    func testLabelNames() {
        for name in ["a", "_a", "status_code", "A9", "_"] {
            XCTAssertTrue(LabelName.isValid(name), name)
        }
        for name in ["", "__name__", "__x", "9a", "a:b", "a-b", "é", "a b"] {
            XCTAssertFalse(LabelName.isValid(name), name)
        }
    }

    func testACounterMustEndInTotal() {
        XCTAssertNil(MetricName.problem("jobs_total", type: .counter))
        XCTAssertEqual(MetricName.problem("jobs", type: .counter), "counter name 'jobs' does not end in _total")
        XCTAssertNil(MetricName.problem("jobs", type: .gauge))
        XCTAssertNotNil(MetricName.problem("9jobs", type: .gauge))
    }

    func testLeIsReservedForHistogramsOnly() {
        XCTAssertEqual(LabelName.problem(["route", "le"], type: .histogram), "label 'le' is reserved for histogram buckets")
        XCTAssertNil(LabelName.problem(["le"], type: .gauge))
        XCTAssertNil(LabelName.problem(["route"], type: .histogram))
    }

    func testLabelNamesMustBeValidAndDistinct() {
        XCTAssertNil(LabelName.problem([], type: .counter))
        XCTAssertNotNil(LabelName.problem(["topic", "topic"], type: .counter))
        XCTAssertEqual(LabelName.problem(["topic", "__meta"], type: .counter), "label name '__meta' is not valid")
    }
}
