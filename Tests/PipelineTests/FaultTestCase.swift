import Foundation
import Kafka
import TestSupport
import XCTest

// Proof under faults (docs/RELIABILITY.md): each scenario runs `cascade consume` as separate
// processes, breaks something, and ends with the Oracle.

/// What every fault scenario shares: a fixture of its own, the subset rule, and small helpers.
class FaultTestCase: XCTestCase {
    var f: PipelineFixture!

    /// The scenarios `make test` runs; `make faults` runs every one, at full size.
    private static let subset: Set<String> = [
        "testKillInsideTheBatchTransaction", "testKillAfterCommitBeforeTheOffsetsAreMarked",
        "testKillInTheRelayAfterProduceBeforeTheDeliveryReport", "testAPoisonFloodLosesNothingAndEveryBadReportIsDeadLettered",
        "testAFloodOfDuplicatesFiresNothingTwiceAndEveryDuplicateIsMarked",
    ]

    override func setUpWithError() throws {
        let test = name.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).last.map(String.init) ?? name
        if !Self.subset.contains(test) { try FaultRun.requireFullRun() }
        f = try makeFixture()
    }

    /// Tansu and the test server's database, unless a scenario needs other parts.
    func makeFixture() throws -> PipelineFixture { try PipelineFixture() }

    override func tearDown() { f?.close() }

    var killedBySIGKILL: Int32 { 128 + SIGKILL }

    /// Result records seen: progress that is cheap to watch.
    func waitForAnswers(atLeast n: Int, timeout: TimeInterval = 120, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(eventually(timeout: timeout, interval: 0.01) { f.reader.messages(f.topics.results).count >= n }, "no progress to \(n)",
                      file: file, line: line)
    }

    /// Publishes `reports` at `perSecond`, a tenth of a second's worth at a time, calling
    /// `tick` after each tenth with the seconds elapsed: load that keeps arriving during a fault.
    func publishSteadily(_ reports: ArraySlice<OutgoingMessage>, perSecond: Int, backlog: Backlog,
                         tick: (TimeInterval) throws -> Void = { _ in }) throws {
        let began = Date(), chunk = max(1, perSecond / 10)
        var sent = reports.startIndex, tenths = 0
        while sent < reports.endIndex {
            let end = min(sent + chunk, reports.endIndex)
            try backlog.publish(Array(reports[sent..<end]), with: f.producer)
            sent = end
            tenths += 1
            Thread.sleep(until: began.addingTimeInterval(Double(tenths) / 10))
            try tick(Date().timeIntervalSince(began))
        }
    }

    func stop(_ member: ChildProcess, file: StaticString = #filePath, line: UInt = #line) {
        member.signal(SIGTERM)
        XCTAssertEqual(member.wait(timeout: 60), 0, member.log, file: file, line: line)
    }
}
