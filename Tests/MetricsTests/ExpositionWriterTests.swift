@testable import Metrics
import XCTest

final class ExpositionWriterTests: XCTestCase {
    func testHelpEscapesBackslashAndNewlineButNotQuotes() {
        let registry = MetricsRegistry()
        _ = registry.gauge("g", help: "line one\nC:\\path \"quoted\"")
        XCTAssertEqual(registry.render().split(separator: "\n").first, #"# HELP g line one\nC:\\path "quoted""#)
    }

    func testLabelValuesEscapeBackslashQuoteAndNewline() {
        let registry = MetricsRegistry()
        registry.gauge("g", help: "G.", labelNames: ["path"]).labels("a\\b\"c\nd").set(1)
        XCTAssertEqual(registry.render().split(separator: "\n").last, #"g{path="a\\b\"c\nd"} 1"#)
    }

    func testANewlineInsideCRLFIsStillEscaped() {
        // "\r\n" is a single Character in Swift; escaping by Character would miss its newline.
        XCTAssertEqual(ExpositionWriter.escapeLabelValue("a\r\nb"), "a\r\\nb")
        XCTAssertEqual(ExpositionWriter.escapeHelp("a\r\nb"), "a\r\\nb")
    }

    func testTextWithNothingToEscapeIsUnchanged() {
        XCTAssertEqual(ExpositionWriter.escapeLabelValue("plain ümlaut 🚀"), "plain ümlaut 🚀")
    }

    func testSpecialValuesAreSpelledAsPrometheusExpects() {
        XCTAssertEqual(ExpositionWriter.format(.nan), "NaN")
        XCTAssertEqual(ExpositionWriter.format(.infinity), "+Inf")
        XCTAssertEqual(ExpositionWriter.format(-.infinity), "-Inf")
    }

    func testIntegersPrintWithoutExponentOrFraction() {
        XCTAssertEqual(ExpositionWriter.format(0), "0")
        XCTAssertEqual(ExpositionWriter.format(-0.0), "0")
        XCTAssertEqual(ExpositionWriter.format(12), "12")
        XCTAssertEqual(ExpositionWriter.format(-7), "-7")
        XCTAssertEqual(ExpositionWriter.format(1e18), "1000000000000000000")
        XCTAssertEqual(ExpositionWriter.format(0x1p60), "1152921504606846976", "exact beyond 2^53, where description uses an exponent")
    }

    func testOtherValuesRoundTrip() {
        for value in [0.1, 0.005, 1e-5, -2.5, 1.0 / 3, 9.3e18, 1e300, Double.leastNonzeroMagnitude, .greatestFiniteMagnitude] {
            let text = ExpositionWriter.format(value)
            XCTAssertEqual(Double(text), value, text)
        }
        XCTAssertEqual(ExpositionWriter.format(0.005), "0.005")
    }
}
