@testable import Metrics
import XCTest

final class HistogramTests: XCTestCase {
    /// The histogram's sample lines, without its HELP and TYPE.
    private func lines(_ buckets: [Double], observing values: [Double]) -> [Substring] {
        let registry = MetricsRegistry()
        let histogram = registry.histogram("h", help: "H.", buckets: buckets)
        values.forEach(histogram.observe)
        return Array(registry.render().split(separator: "\n").dropFirst(2))
    }

    func testBucketsAreCumulativeWithSumAndCount() {
        XCTAssertEqual(lines([1, 2, 4], observing: [0.5, 1.5, 1.5, 3, 100]), [
            #"h_bucket{le="1"} 1"#, #"h_bucket{le="2"} 3"#, #"h_bucket{le="4"} 4"#, #"h_bucket{le="+Inf"} 5"#,
            "h_sum 106.5", "h_count 5",
        ])
    }

    func testAnObservationOnABoundCountsInThatBucket() {
        XCTAssertEqual(lines([1, 2, 4], observing: [1, 2, 4]).prefix(4), [
            #"h_bucket{le="1"} 1"#, #"h_bucket{le="2"} 2"#, #"h_bucket{le="4"} 3"#, #"h_bucket{le="+Inf"} 3"#,
        ])
    }

    func testBelowTheFirstBoundAndNegativeValuesCountInTheFirstBucket() {
        XCTAssertEqual(lines([0, 1], observing: [-5, 0]).prefix(1), [#"h_bucket{le="0"} 2"#])
    }

    func testNaNCountsOnlyInInfAndMakesTheSumNaN() {
        XCTAssertEqual(lines([1], observing: [0.5, .nan]), [
            #"h_bucket{le="1"} 1"#, #"h_bucket{le="+Inf"} 2"#, "h_sum NaN", "h_count 2",
        ])
    }

    func testNoBucketsLeavesOnlyInf() {
        XCTAssertEqual(lines([], observing: [3]), [#"h_bucket{le="+Inf"} 1"#, "h_sum 3", "h_count 1"])
    }

    func testATrailingInfBoundIsDroppedNotRepeated() {
        XCTAssertEqual(lines([1, .infinity], observing: [2]).filter { $0.contains("+Inf") }, [#"h_bucket{le="+Inf"} 1"#])
    }

    func testBoundsMustBeStrictlyIncreasingAndNotNaN() {
        XCTAssertNil(Histogram.problem([0.005, 0.01, 1, .infinity]))
        XCTAssertNil(Histogram.problem([]))
        XCTAssertNotNil(Histogram.problem([1, 1]))
        XCTAssertNotNil(Histogram.problem([2, 1]))
        XCTAssertNotNil(Histogram.problem([1, .nan]))
        XCTAssertNotNil(Histogram.problem([.infinity, .infinity]))
    }

    func testIntegerObservationsAreCounted() {
        let histogram = MetricsRegistry().histogram("h", help: "H.", buckets: [10])
        histogram.observe(7)
        histogram.observe(Int(12))
        let counts = histogram.snapshot()
        XCTAssertEqual(counts.buckets, [1, 1])
        XCTAssertEqual(counts.sum, 19)
        XCTAssertEqual(counts.count, 2)
    }
}
