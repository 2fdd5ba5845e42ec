@testable import CascadeService
import XCTest

final class FailpointsTests: XCTestCase {
    private func rule(_ text: String) -> FailpointRule? {
        if case .success(let rule) = FailpointRule.parse(Substring(text)) { return rule }
        return nil
    }

    private func problem(_ text: String) -> String? {
        if case .failure(let problem) = FailpointRule.parse(Substring(text)) { return problem.reason }
        return nil
    }

    func testEachActionAndSuffixIsRead() {
        XCTAssertEqual(rule("kill"), FailpointRule(action: .kill))
        XCTAssertEqual(rule("hang"), FailpointRule(action: .hang))
        XCTAssertEqual(rule("error"), FailpointRule(action: .error(sqlState: "40001")), "a serialization failure unless told")
        XCTAssertEqual(rule("error:57P01"), FailpointRule(action: .error(sqlState: "57P01")))
        XCTAssertEqual(rule("delay:250ms"), FailpointRule(action: .delay(.milliseconds(250))))
        XCTAssertEqual(rule("delay:2s"), FailpointRule(action: .delay(.seconds(2))))
        XCTAssertEqual(rule("delay:1.5s"), FailpointRule(action: .delay(.milliseconds(1500))))
        XCTAssertEqual(rule("kill@3"), FailpointRule(action: .kill, firstHit: 3))
        XCTAssertEqual(rule("error:40001*5"), FailpointRule(action: .error(sqlState: "40001"), maxFirings: 5))
        XCTAssertEqual(rule("kill%2.5"), FailpointRule(action: .kill, percent: 2.5))
        XCTAssertEqual(rule("delay:10ms%50*3@2"), FailpointRule(action: .delay(.milliseconds(10)), firstHit: 2, maxFirings: 3, percent: 50),
                       "suffixes in any order")
    }

    func testEveryMistakeIsNamed() {
        XCTAssertEqual(problem("explode"), "'explode' is not an action: kill, hang, error[:SQLSTATE] or delay:<n>ms|<n>s")
        XCTAssertEqual(problem("kill:now"), "'kill:now' is not an action: kill, hang, error[:SQLSTATE] or delay:<n>ms|<n>s")
        XCTAssertEqual(problem("delay"), "'delay' is not an action: kill, hang, error[:SQLSTATE] or delay:<n>ms|<n>s")
        XCTAssertEqual(problem("error:4001"), "'4001' is not a five-character SQLSTATE")
        XCTAssertEqual(problem("error:4000x"), "'4000x' is not a five-character SQLSTATE")
        XCTAssertEqual(problem("delay:2m"), "'2m' is not a delay such as 500ms or 2s")
        XCTAssertEqual(problem("delay:-1s"), "'-1s' is not a delay such as 500ms or 2s")
        XCTAssertEqual(problem("delay:1e17s"), "'1e17s' is not a delay such as 500ms or 2s", "refused, not a trap")
        XCTAssertEqual(problem("delay:nans"), "'nans' is not a delay such as 500ms or 2s")
        XCTAssertEqual(problem("kill@0"), "'@0' needs a whole number from 1")
        XCTAssertEqual(problem("kill@"), "'@' needs a whole number from 1")
        XCTAssertEqual(problem("kill*x"), "'*x' needs a whole number from 1")
        XCTAssertEqual(problem("kill%0"), "'%0' needs a percentage in (0, 100]")
        XCTAssertEqual(problem("kill%101"), "'%101' needs a percentage in (0, 100]")
        XCTAssertEqual(problem("kill@2@3"), "'@' is given twice")
    }

    func testCountsAndProbabilityDecideEachFiring() {
        let third = FailpointRule(action: .kill, firstHit: 3)
        XCTAssertEqual((1...5).map { third.fires(hit: $0, firedBefore: 0, draw: 0) }, [false, false, true, true, true])
        let fiveTimes = FailpointRule(action: .error(sqlState: "40001"), maxFirings: 5)
        XCTAssertTrue(fiveTimes.fires(hit: 9, firedBefore: 4, draw: 0))
        XCTAssertFalse(fiveTimes.fires(hit: 10, firedBefore: 5, draw: 0))
        let tenPercent = FailpointRule(action: .kill, percent: 10)
        XCTAssertTrue(tenPercent.fires(hit: 1, firedBefore: 0, draw: 9.99))
        XCTAssertFalse(tenPercent.fires(hit: 1, firedBefore: 0, draw: 10))
    }

    func testOnlyKnownPointsAreArmedAndAnyMistakeArmsNothing() {
        XCTAssertEqual(Failpoints.parse(nil).armed, [:])
        XCTAssertEqual(Failpoints.parse("").armed, [:])
        XCTAssertEqual(Failpoints.parse("worker-apply=hang").armed, [.workerApply: FailpointRule(action: .hang)])
        XCTAssertEqual(Failpoints.parse("after-db-commit-before-mark=kill,batch-write=error:40001*5").armed,
                       [.afterCommitBeforeMark: FailpointRule(action: .kill),
                        .batchWrite: FailpointRule(action: .error(sqlState: "40001"), maxFirings: 5)])
        let typo = Failpoints.parse("worker-apply=hang,worker-aply=hang")
        XCTAssertEqual(typo.armed, [:], "half a configuration is not applied")
        XCTAssertEqual(typo.problems.count, 1)
        XCTAssertEqual(Failpoints.parse("worker-apply=explode").problems, [
            "'worker-apply=explode': 'explode' is not an action: kill, hang, error[:SQLSTATE] or delay:<n>ms|<n>s"])
        XCTAssertEqual(Failpoints.parse("during-revoke=error").problems, [
            "'during-revoke=error': during-revoke cannot fail with an error; kill, hang or delay it"])
        XCTAssertEqual(Failpoints.parse("sweep=kill,sweep=hang").problems, ["'sweep=hang': sweep is given twice"])
        XCTAssertEqual(Failpoints.parse("sweep").problems.count, 1)
    }
}
