import CascadeDomain
import Foundation
import Kafka
import Postgres
import TestSupport
import XCTest

/// 1 and 2 of docs/RELIABILITY.md: a kill at every failpoint but worker-apply (whose hang
/// ObservabilityTests covers), and kills at random moments.
final class KillFaultTests: FaultTestCase {
    // MARK: 1. A kill at every failpoint

    /// Arms `point` with `rule` in a member draining a backlog, lets `provoke` bring the member
    /// to it, checks the failpoint (not something else) killed it mid-stream, then restarts a
    /// clean member and runs the oracle.
    private func kill(at point: String, rule: String = "kill", backlogSize: Int = FaultRun.size(subset: 3000, full: 20_000),
                      provoke: (ChildProcess) throws -> Void = { _ in }) throws {
        let work = try Backlog.seed(f, count: backlogSize, subscriptions: 2)
        let victim = try f.startConsumer(["--batch-size", "20"], environment: ["CASCADE_FAILPOINTS": "\(point)=\(rule)"])
        try provoke(victim)
        XCTAssertEqual(victim.wait(timeout: 120), killedBySIGKILL, "the failpoint did not kill the member: \(victim.log)")
        XCTAssertTrue(victim.log.contains(#""failpoint":"\#(point)""#) && victim.log.contains(#""msg":"failpoint fired""#), victim.log)
        XCTAssertLessThan(try work.terminalCount(f), Int64(backlogSize), "the backlog drained before the kill; it proved nothing")

        try recover(work, scenario: "kill at \(point)", crashes: 1)
    }

    /// After the crashes: a clean member drains what is left, the oracle checks it, and the
    /// scenario's row goes to the table.
    private func recover(_ work: Backlog, scenario: String, crashes: Int, batchSize: Int = 200, timeout: TimeInterval = 180,
                         measured: [String: Double] = [:]) throws {
        let restarted = Date()
        let survivor = try f.startConsumer(["--batch-size", "\(batchSize)"])
        let verdict = try Oracle.verify(f, work, timeout: timeout)
        FaultRun.record(.init(scenario: scenario, reports: work.jobs.count, verdict: verdict, crashes: crashes,
                              recoverySeconds: Date().timeIntervalSince(restarted), measured: measured))
        stop(survivor)
    }

    func testKillBeforeTheBatchTransaction() throws {
        try kill(at: "before-batch-tx", rule: "kill@10")
    }

    func testKillInsideTheBatchTransaction() throws {
        try kill(at: "batch-write", rule: "kill@10")
    }

    func testKillAfterCommitBeforeTheOffsetsAreMarked() throws {
        try kill(at: "after-db-commit-before-mark", rule: "kill@10")
    }

    func testKillAfterMarkingBeforeTheKafkaCommit() throws {
        try kill(at: "after-mark-before-kafka-commit", rule: "kill@5")
    }

    func testKillInTheRelayAfterProduceBeforeTheDeliveryReport() throws {
        try kill(at: "relay-after-produce-before-delivery-report", rule: "kill@50")
    }

    func testKillInTheRelayAfterDeliveryBeforeTheRowsAreDeleted() throws {
        try kill(at: "relay-after-delivery-before-delete", rule: "kill@2")
    }

    func testKillInsideTheRevokeCallback() throws {
        try kill(at: "during-revoke") { victim in
            waitForAnswers(atLeast: 100)
            // A second member makes the group rebalance: the first is revoked, and dies there.
            let joiner = try f.startConsumer(["--batch-size", "20"])
            XCTAssertEqual(victim.wait(timeout: 60), killedBySIGKILL, victim.log)
            stop(joiner)
        }
    }

    func testKillDuringShutdown() throws {
        try kill(at: "during-shutdown") { victim in
            waitForAnswers(atLeast: 100)
            victim.signal(SIGTERM)
        }
    }

    /// A sweep only meets rows a crash left behind: the first member dies in the relay with
    /// rows unsettled, the second dies in the sweep that claims them, a third finishes.
    func testKillDuringTheSweepOfRowsACrashLeft() throws {
        let size = FaultRun.size(subset: 3000, full: 20_000)
        let work = try Backlog.seed(f, count: size, subscriptions: 2)
        let first = try f.startConsumer(["--batch-size", "20"],
                                        environment: ["CASCADE_FAILPOINTS": "relay-after-produce-before-delivery-report=kill@50"])
        XCTAssertEqual(first.wait(timeout: 120), killedBySIGKILL, first.log)
        let second = try f.startConsumer(["--batch-size", "20"], environment: ["CASCADE_FAILPOINTS": "sweep=kill"])
        XCTAssertEqual(second.wait(timeout: 120), killedBySIGKILL, "the sweep never met the rows: \(second.log)")
        XCTAssertTrue(second.log.contains(#""failpoint":"sweep""#), second.log)
        XCTAssertGreaterThan(try work.unpublishedCount(f), 0, "no rows were left to sweep; it proved nothing")

        try recover(work, scenario: "kill at sweep (after a kill in the relay)", crashes: 2)
    }

    // MARK: 2. Kills at random moments

    /// Reports keep arriving (a release build drained a fixed 50,000 backlog before the
    /// twentieth kill): a tenth of the backlog first, the rest at 250 a second for three
    /// minutes, during which the rounds run.
    func testTwentyKillsAtRandomMomentsUnderABacklog() throws {
        let head = 5_000, perSecond = 250, seconds = 180, kills = 20
        let size = head + perSecond * seconds
        let work = try Backlog.seed(f, count: size, subscriptions: 2, publish: false)
        try work.publish(Array(work.reports[..<head]), with: f.producer)
        let points = ["before-batch-tx", "batch-write", "after-db-commit-before-mark", "after-mark-before-kafka-commit",
                      "relay-after-produce-before-delivery-report", "relay-after-delivery-before-delete", "sweep"]
        let seed = UInt64(Date().timeIntervalSince1970)
        var random = SplitMix64(seed: seed)
        var byFailpoint = 0, killed = 0, terminalAtLastKill: Int64 = 0
        var member: ChildProcess?, deadline = Date()
        try publishSteadily(work.reports[head...], perSecond: perSecond, backlog: work) { _ in
            if let running = member {
                let exited = running.wait(timeout: 0) != nil
                guard exited || Date() >= deadline else { return }
                if exited { byFailpoint += 1 } else { running.signal(SIGKILL) }
                XCTAssertEqual(running.wait(timeout: 10), killedBySIGKILL, "round \(killed + 1): \(running.log)")
                killed += 1
                terminalAtLastKill = try work.terminalCount(f)
                member = nil
            }
            guard killed < kills else { return }
            // Half the rounds arm a random failpoint at a random hit; every round is killed from
            // outside after a random 2–8 s if the failpoint has not fired by then.
            let point = (killed + 1) % 2 == 0 ? points[Int(random.next() % UInt64(points.count))] : nil
            let environment = point.map { ["CASCADE_FAILPOINTS": "\($0)=kill@\(1 + random.next() % 40)"] } ?? [:]
            member = try f.startConsumer(["--batch-size", "100"], environment: environment)
            deadline = Date().addingTimeInterval(2 + Double(random.next() % 6000) / 1000)
        }
        member?.signal(SIGKILL)
        XCTAssertEqual(killed, kills, "the load ended before the twentieth kill")
        XCTAssertLessThan(terminalAtLastKill, Int64(size), "the backlog drained before the last kill")
        try recover(work, scenario: "20 kills at random moments while reports arrive (seed \(seed))", crashes: kills, batchSize: 500,
                    timeout: 600, measured: ["kills_by_failpoint": Double(byFailpoint)])
    }
}
