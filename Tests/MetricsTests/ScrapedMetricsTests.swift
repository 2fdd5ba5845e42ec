import Metrics
import XCTest

final class ScrapedMetricsTests: XCTestCase {
    func testSamplesWithLabelsEscapesAndSpecialValuesAreRead() {
        let text = """
            # HELP cascade_reports_total Reports.
            # TYPE cascade_reports_total counter
            cascade_reports_total{code="200"} 12
            cascade_reports_total{code="404"} 3
            cascade_consumer_lag_seconds{topic="a\\"b",partition="0"} 1.5
            process_start_time_seconds 1.7e9
            weird{le="+Inf"} +Inf
            broken{code="200" 5
            """
        let m = ScrapedMetrics(parsing: text)
        XCTAssertEqual(m.sum("cascade_reports_total"), 15)
        XCTAssertEqual(m.sum("cascade_reports_total", ["code": "404"]), 3)
        XCTAssertEqual(m.byLabel("cascade_reports_total", "code"), ["200": 12, "404": 3])
        XCTAssertEqual(m.samples.first { $0.name == "cascade_consumer_lag_seconds" }?.labels["topic"], "a\"b")
        XCTAssertEqual(m.sum("process_start_time_seconds"), 1.7e9)
        XCTAssertEqual(m.sum("weird"), .infinity)
        XCTAssertNil(m.sum("broken"), "an unterminated label set is skipped, not misread")
        XCTAssertNil(m.sum("absent"))
    }
}
