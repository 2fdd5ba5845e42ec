import CascadeDomain
import Foundation
import TestSupport
import XCTest

/// Static membership (`--instance-id`) on Tansu, which honours `group.instance.id` (librdkafka's
/// mock cluster does not: its classic-protocol groups look members up by member id only). A
/// member restarted within `session.timeout.ms` gets its partitions back and the other member
/// sees no rebalance; a member told it is being scaled in (`--leave-group-file`) leaves, so its
/// partitions move long before the session timeout.
final class StaticMembershipTests: XCTestCase {
    private var f: PipelineFixture!

    override func tearDown() { f?.close() }

    /// The partitions each "partitions assigned" / "partitions revoked" line of a member's log names.
    private func events(_ member: ChildProcess, _ kind: String) -> [Set<String>] {
        member.log.split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }
            .filter { $0["msg"]?.stringValue == "partitions \(kind)" }
            .map { Set(($0["partitions"]?.stringValue ?? "").split(separator: ",").map(String.init)) }
    }

    private func owned(_ member: ChildProcess) -> Set<String> {
        var owned = Set<String>()
        for line in member.log.split(separator: "\n") {
            guard let event = try? JSONParser.parse(String(line)), let msg = event["msg"]?.stringValue else { continue }
            let partitions = Set((event["partitions"]?.stringValue ?? "").split(separator: ",").map(String.init))
            if msg == "partitions assigned" { owned.formUnion(partitions) }
            if msg == "partitions revoked" { owned.subtract(partitions) }
        }
        return owned
    }

    /// Two static members sharing the fixture's three partitions (range assignment), a long
    /// enough session for a restart to fit in.
    private func startMember(_ instance: String, _ extra: [String] = []) throws -> ChildProcess {
        try f.startConsumer(["--instance-id", instance, "--kafka-config", "session.timeout.ms=30000"] + extra)
    }

    private func startPair(leaveFile: String? = nil) throws -> (ChildProcess, ChildProcess) {
        f = try PipelineFixture()
        let a = try startMember("member-a", leaveFile.map { ["--leave-group-file", $0] } ?? [])
        let b = try startMember("member-b")
        XCTAssertTrue(eventually(timeout: 60) { owned(a).count + owned(b).count == 3 && !owned(a).isEmpty && !owned(b).isEmpty },
                      "both members own partitions\nA: \(a.log)\nB: \(b.log)")
        return (a, b)
    }

    /// Every partition works: one job per report, answered 200.
    private func assertReportsAnswered(_ label: String) throws {
        let model = try f.model(label)
        let jobs = try (0..<12).map { _ in try f.startedJob(model) }
        for job in jobs { try f.report(job) }
        for job in jobs { XCTAssertEqual(f.results(for: job.id, timeout: 60).first?["code"], 200, "\(label): \(job.id)") }
    }

    func testAMemberRestartedWithinTheSessionGetsItsPartitionsBackAndTheOtherSeesNoRebalance() throws {
        let (a, b) = try startPair()
        defer { b.signal(SIGKILL) }
        let aPartitions = owned(a), bPartitions = owned(b)
        let bEventsBefore = events(b, "assigned").count + events(b, "revoked").count

        a.signal(SIGTERM)
        XCTAssertEqual(a.wait(timeout: 40), 0, a.log)
        XCTAssertTrue(a.log.contains("static member closing without leaving"), a.log)
        let restarted = try startMember("member-a")
        defer { restarted.signal(SIGKILL) }
        XCTAssertTrue(eventually(timeout: 25) { owned(restarted) == aPartitions },
                      "the restarted member gets \(aPartitions) back: \(restarted.log)")
        try assertReportsAnswered("static-restart")

        XCTAssertEqual(owned(b), bPartitions, b.log)
        XCTAssertEqual(events(b, "assigned").count + events(b, "revoked").count, bEventsBefore,
                       "the other member saw a rebalance: \(b.log)")
    }

    func testAMemberScaledInLeavesAndItsPartitionsMoveBeforeTheSessionTimeout() throws {
        let leaveFile = NSTemporaryDirectory() + TestEnvironment.unique("leave-group")
        let (a, b) = try startPair(leaveFile: leaveFile)
        defer { b.signal(SIGKILL) }
        XCTAssertTrue(FileManager.default.createFile(atPath: leaveFile, contents: Data()))
        defer { try? FileManager.default.removeItem(atPath: leaveFile) }

        let signalled = Date()
        a.signal(SIGTERM)
        XCTAssertEqual(a.wait(timeout: 40), 0, a.log)
        XCTAssertTrue(a.log.contains("static member leaving the group"), a.log)
        // The session is 30 s: without a LeaveGroup the survivor would wait that long, and then
        // for the new group to form. With one, only the forming: Tansu takes about half the
        // session timeout for it (measured 19 s from the signal, drain included).
        XCTAssertTrue(eventually(timeout: 60) { owned(b).count == 3 }, "the survivor took every partition: \(b.log)")
        XCTAssertLessThan(Date().timeIntervalSince(signalled), 28, "partitions moved by the session timeout, not a LeaveGroup")
        try assertReportsAnswered("static-scale-in")
    }
}
