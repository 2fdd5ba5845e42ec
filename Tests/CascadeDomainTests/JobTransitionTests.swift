import CascadeDomain
import XCTest

final class JobTransitionTests: XCTestCase {
    func testPendingAndStartedJobsComplete() {
        XCTAssertEqual(JobTransition.decide(job: job(status: .pending), report: report()), .complete)
        XCTAssertEqual(JobTransition.decide(job: job(status: .started), report: report()), .complete)
    }

    func testCompletingStoresStatusOutputErrorAndTimes() {
        let now = t0.addingTimeInterval(60)
        let failed = job(status: .pending).completed(by: report(status: .failure, output: ["log": "s3://l"], error: ["code": "OOM"]), at: now)
        XCTAssertEqual(failed.status, .failure)
        XCTAssertEqual(failed.output, ["log": "s3://l"])
        XCTAssertEqual(failed.error, ["code": "OOM"])
        XCTAssertEqual(failed.completedAt, now)
        XCTAssertEqual(failed.startedAt, now, "a pending job that completes has started by then")
        let succeeded = job(status: .started).completed(by: report(status: .success, error: ["ignored": true]), at: now)
        XCTAssertNil(succeeded.error, "error is stored only for failures")
        XCTAssertEqual(succeeded.startedAt, t0)
    }

    func testTheSameCompletionOfATerminalJobIsADuplicate() {
        let done = job().completed(by: report(output: ["a": 1, "b": 2]), at: t0)
        XCTAssertEqual(JobTransition.decide(job: done, report: report(output: ["b": 2, "a": 1])), .duplicate, "key order does not matter")
        XCTAssertEqual(JobTransition.decide(job: done, report: report(output: ["b": .number("2.0"), "a": 1])), .duplicate, "2 and 2.0 are the same number")
        let failed = job().completed(by: report(status: .failure, output: nil, error: ["e": 1]), at: t0)
        XCTAssertEqual(JobTransition.decide(job: failed, report: report(status: .failure, output: nil, error: ["e": 1])), .duplicate)
    }

    func testADifferentCompletionOfATerminalJobIsAConflict() {
        let done = job().completed(by: report(output: ["a": 1]), at: t0)
        guard case .conflict(let m1) = JobTransition.decide(job: done, report: report(status: .failure, output: ["a": 1])) else { return XCTFail() }
        XCTAssertTrue(m1.contains("status success, reported failure"), m1)
        guard case .conflict(let m2) = JobTransition.decide(job: done, report: report(output: ["a": 2])) else { return XCTFail() }
        XCTAssertTrue(m2.contains("a different output"), m2)
        let failed = job().completed(by: report(status: .failure, output: nil, error: ["e": 1]), at: t0)
        guard case .conflict(let m3) = JobTransition.decide(job: failed, report: report(status: .failure, output: nil, error: ["e": 2])) else { return XCTFail() }
        XCTAssertTrue(m3.contains("a different error"), m3)
    }

    func testAMissingJobOrOneUnderAnotherModelOrVersionIsNotFound() {
        for (candidate, r) in [(nil, report()), (job(model: "B"), report()), (job(version: "v2"), report())] {
            guard case .notFound(let message) = JobTransition.decide(job: candidate, report: r) else { return XCTFail("\(String(describing: candidate))") }
            XCTAssertEqual(message, "job job-1 not found under model A version v1")
        }
    }
}
