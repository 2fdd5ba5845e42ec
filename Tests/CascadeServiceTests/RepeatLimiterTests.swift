@testable import CascadeService
import XCTest

final class RepeatLimiterTests: XCTestCase {
    private let t0 = ContinuousClock.now

    func testRepeatsWithinTheIntervalAreCountedAndReportedWithTheNextLine() {
        var limiter = RepeatLimiter(interval: .seconds(10))
        XCTAssertEqual(limiter.admit("connect failed", at: t0), .write(suppressedBefore: 0))
        for s in 1...5 { XCTAssertEqual(limiter.admit("connect failed", at: t0 + .seconds(s)), .suppress) }
        XCTAssertEqual(limiter.admit("other failure", at: t0 + .seconds(6)), .write(suppressedBefore: 0), "kinds are separate")
        XCTAssertEqual(limiter.admit("connect failed", at: t0 + .seconds(10)), .write(suppressedBefore: 5))
        XCTAssertEqual(limiter.admit("connect failed", at: t0 + .seconds(21)), .write(suppressedBefore: 0))
    }

    /// librdkafka's lines differ in timings, counts and ports only: one kind.
    func testLinesThatDifferOnlyInNumbersAreOneKind() {
        XCTAssertEqual(RepeatLimiter.kind(of: "Connect to ipv4#127.0.0.1:19092 failed (after 0ms in state CONNECT, 12 identical error(s) suppressed)"),
                       RepeatLimiter.kind(of: "Connect to ipv4#127.0.0.1:19093 failed (after 143ms in state CONNECT, 3 identical error(s) suppressed)"))
        XCTAssertNotEqual(RepeatLimiter.kind(of: "connect failed"), RepeatLimiter.kind(of: "connect refused"))
    }

    /// A flood of distinct lines must not grow memory without bound.
    func testItRemembersABoundedNumberOfKinds() {
        var limiter = RepeatLimiter(interval: .seconds(10))
        for i in 0..<(RepeatLimiter.capacity * 3) {
            _ = limiter.admit("line \(String(repeating: "x", count: i % 50)) \(UUID().uuidString.filter { !$0.isNumber })", at: t0)
        }
        XCTAssertEqual(limiter.admit("first again", at: t0), .write(suppressedBefore: 0))
        XCTAssertLessThanOrEqual(limiter.rememberedKinds, RepeatLimiter.capacity)
    }
}
