import CascadeDomain
@testable import CascadeService
import Foundation
import Kafka
import Postgres
import Synchronization
import XCTest

/// What the workers tell liveness, lag and a revoke: progress, positions, and hand-back.
final class WorkerProgressTests: XCTestCase {
    private let p0 = TopicPartition("reports", 0), p1 = TopicPartition("reports", 1)
    private let lost = PostgresError(kind: .connectionLost, sqlState: nil, message: "server closed the connection")

    private func message(_ job: String, _ tp: TopicPartition, offset: Int64, ts: Int64? = nil) -> KafkaMessage {
        KafkaMessage(topic: tp.topic, partition: tp.partition, offset: offset, key: Array(job.utf8),
                     value: Array(#"{"model_id":"A","model_version":"v1","job_id":"\#(job)","status":"success"}"#.utf8),
                     headers: [], timestampMs: ts)
    }

    private func workers(_ store: FailingStore, applied: AppliedLog, ending: Latch<ServiceEnding> = Latch()) -> BatchWorkers {
        var settings = ServiceSettings(brokers: "unused", databaseURL: nil)
        settings.workers = 1
        return BatchWorkers(count: 1, settings: settings, ending: ending, makeStore: { store }) { batch in
            applied.batches.withLock { $0.append(batch) }
        }
    }

    /// What an applied batch records per partition is read off each run of one partition, at
    /// its highest offset; a partition that comes back later in the batch makes a second run.
    func testEachRunOfOnePartitionGivesItsHighestOffset() {
        let p2 = TopicPartition("other", 0)
        let batch = [message("a", p0, offset: 4), message("b", p0, offset: 5), message("c", p1, offset: 9),
                     message("d", p0, offset: 6), message("e", p2, offset: 2), message("f", p2, offset: 1)]
        let runs = BatchWorkers.highestOfEachPartitionRun(batch)
        XCTAssertEqual(runs.map(\.topicPartition), [p0, p1, p0, p2])
        XCTAssertEqual(runs.map(\.offset), [5, 9, 6, 2])
        XCTAssertEqual(BatchWorkers.highestOfEachPartitionRun([]).count, 0)
        XCTAssertEqual(BatchWorkers.highestOfEachPartitionRun([message("a", p1, offset: 3)]).map(\.offset), [3])
    }

    /// A batch whose partitions interleave (p0, p1, p0) marks and reports each partition at its
    /// highest applied offset, with that report's timestamp.
    func testAnInterleavedBatchIsMarkedAtEachPartitionsHighestOffset() {
        let store = FailingStore(startedJobs: ["a", "b", "c", "d"]) { _, _ in nil }
        let applied = AppliedLog()
        let w = workers(store, applied: applied)
        w.start()
        defer { w.stop() }
        w.submit([message("a", p0, offset: 7, ts: 100), message("b", p1, offset: 3, ts: 200),
                  message("c", p0, offset: 8, ts: 300), message("d", p1, offset: 4, ts: 400)])
        XCTAssertTrue(waitUntil { applied.batches.withLock { $0.count } == 1 }, "the batch is applied")
        XCTAssertEqual(w.takeApplied(), [p0: 8, p1: 4])
        let progress = w.partitionProgress().applied
        XCTAssertEqual(progress[p0]?.next, 9)
        XCTAssertEqual(progress[p0]?.timestampMs, 300)
        XCTAssertEqual(progress[p1]?.next, 5)
        XCTAssertEqual(progress[p1]?.timestampMs, 400)
    }

    /// A revoke while the database is away: the retrying batch lets the revoked partition's
    /// reports go unmarked (the next owner has them) and keeps the rest, in order, without
    /// halting the worker; once the database is back the rest is applied and marked.
    func testARevokeDuringAnOutageHandsBackTheKeptReportsAndDropsTheRevoked() {
        let down = Flag(true)
        let store = FailingStore(startedJobs: ["keep-1", "gone-1", "keep-2"]) { [lost] _, _ in down.value ? lost : nil }
        let ending = Latch<ServiceEnding>(), applied = AppliedLog()
        let w = workers(store, applied: applied, ending: ending)
        w.start()
        defer { w.stop() }
        w.submit([message("keep-1", p0, offset: 1), message("gone-1", p1, offset: 1), message("keep-2", p0, offset: 2)])
        XCTAssertTrue(waitUntil { store.calls.withLock { $0.count } >= 2 }, "it is retrying")

        w.discardPending(of: [p1])
        w.abandonRetries(of: [p1])
        let revoked = Latch<Void>()
        Thread { [p1] in w.waitForBatchesInProgress(of: [p1]); revoked.open() }.start()
        XCTAssertNotNil(revoked.wait(timeout: .seconds(10)), "the revoke waited for the database")
        XCTAssertTrue(w.takeApplied().isEmpty, "nothing was applied, so nothing is marked")

        down.value = false
        XCTAssertTrue(waitUntil { applied.batches.withLock { $0.count } == 1 }, "the kept reports are applied once the database is back")
        XCTAssertEqual(applied.batches.withLock { $0.first?.effects.results.compactMap(\.jobId) }, ["keep-1", "keep-2"])
        XCTAssertEqual(store.calls.withLock { $0.last }, ["keep-1", "keep-2"])
        XCTAssertEqual(w.takeApplied(), [p0: 2])
        XCTAssertNil(ending.current, "a revoke is not a failure, and the worker did not halt")
    }

    /// Liveness reads the oldest progress of workers holding work: none when idle, fixed while a
    /// batch hangs, moving while it retries, none again once it is done.
    func testProgressIsReportedOnlyForWorkersHoldingWork() {
        let release = Latch<Void>()
        let store = FailingStore(startedJobs: ["j1"]) { _, _ in release.wait(); return nil }
        let applied = AppliedLog()
        let w = workers(store, applied: applied)
        w.start()
        defer { w.stop() }
        XCTAssertNil(w.oldestProgressOfWorkersHoldingWork(), "an idle worker is never stalled")
        let before = ContinuousClock.now
        w.submit([message("j1", p0, offset: 3, ts: 1_000)])
        XCTAssertTrue(waitUntil { store.calls.withLock { !$0.isEmpty } })
        let stuck = w.oldestProgressOfWorkersHoldingWork()
        XCTAssertNotNil(stuck)
        XCTAssertGreaterThanOrEqual(stuck!, before, "handed work while idle: its clock starts now, not at its last batch")
        Thread.sleep(forTimeInterval: 0.1)
        XCTAssertEqual(w.oldestProgressOfWorkersHoldingWork(), stuck, "a hung batch makes no progress")
        XCTAssertEqual(w.partitionProgress().nextTimestampMs, [p0: 1_000], "the report in hand is the next one")
        release.open()
        XCTAssertTrue(waitUntil { applied.batches.withLock { $0.count } == 1 })
        XCTAssertTrue(waitUntil { w.oldestProgressOfWorkersHoldingWork() == nil })
        let progress = w.partitionProgress()
        XCTAssertEqual(progress.applied[p0]?.next, 4)
        XCTAssertEqual(progress.applied[p0]?.timestampMs, 1_000)
        XCTAssertTrue(progress.nextTimestampMs.isEmpty)
        w.discardPending(of: [p0])
        XCTAssertNil(w.partitionProgress().applied[p0], "a revoked partition's position is forgotten")
    }
}

/// A switch a test flips while a worker's store reads it.
final class Flag: Sendable {
    private let state: Mutex<Bool>
    init(_ value: Bool) { state = Mutex(value) }
    var value: Bool {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }
}
