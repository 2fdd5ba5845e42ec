@testable import Metrics
import XCTest

final class ProcStatTests: XCTestCase {
    func testTheCommandNameMayContainSpacesAndParentheses() throws {
        // A naive split at the first ')' would read "2 3 (b" as fields 3 onward.
        let line = "12345 (a) 2 3 (b) c) S 1 12345 12345 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 9 0 4242 123456789 2048 18446744073709551615\n"
        let stat = try XCTUnwrap(ProcSelfStat(line))
        XCTAssertEqual(stat, ProcSelfStat(userTicks: 250, systemTicks: 75, threads: 9, startTicks: 4242))
    }

    func testALineEndingAtTheStartTimeParses() {
        let line = "7 (x) S 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 99\n"
        XCTAssertEqual(ProcSelfStat(line), ProcSelfStat(userTicks: 3, systemTicks: 4, threads: 1, startTicks: 99))
    }

    func testATruncatedOrUnparenthesizedLineIsRejected() {
        XCTAssertNil(ProcSelfStat("12345 (cascade) S 1 12345 12345 0 -1 4194560 1000 0 0 0 250 75"))
        XCTAssertNil(ProcSelfStat("12345 cascade S 1 12345 12345 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 9 0 4242"))
        XCTAssertNil(ProcSelfStat(""))
    }

    func testStatmGivesVirtualAndResidentPages() {
        XCTAssertEqual(ProcSelfStatm("5000 1200 300 10 0 900 0\n"), ProcSelfStatm(virtualPages: 5000, residentPages: 1200))
        XCTAssertNil(ProcSelfStatm("5000\n"))
    }

    func testBootTimeIsTheBtimeLine() {
        XCTAssertEqual(bootTime(procStat: "cpu  1 2 3 4\ncpu0 1 2 3 4\nbtime 1700000000\nprocesses 5\n"), 1_700_000_000)
        XCTAssertNil(bootTime(procStat: "cpu  1 2 3 4\nprocesses 5\n"))
    }
}
