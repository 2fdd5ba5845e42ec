import CascadeDomain
@testable import CascadeService
import Foundation
import Kafka
import Postgres
import Synchronization
import XCTest

/// What each kind of failure leads to, with a store that fails on demand: no database.
final class FailureHandlingTests: XCTestCase {
    private let refused = PostgresError(sqlState: "22P05", message: "unsupported Unicode escape sequence")
    private let lost = PostgresError(kind: .connectionLost, sqlState: nil, message: "server closed the connection")

    private func processor(_ store: FailingStore) -> BatchProcessor {
        BatchProcessor(store: store, planner: CompletionPlanner(), limits: .defaults)
    }

    func testEveryFailureHasAClass() {
        let cases: [(any Error, FailurePolicy.Class)] = [
            (lost, .transient), (PostgresError(sqlState: "40001", message: ""), .transient),
            (PostgresError(sqlState: "40P01", message: ""), .transient), (PostgresError(sqlState: "53100", message: "disk full"), .transient),
            (PostgresError(sqlState: "57014", message: "statement timeout"), .transient),
            (refused, .refusedContent), (PostgresError(sqlState: "23514", message: ""), .refusedContent),
            (PostgresError(sqlState: "54000", message: "too large"), .refusedContent),
            (PostgresError(sqlState: "42P01", message: "no such table"), .fatal), (PostgresError.client("bug"), .fatal),
            (ServiceError.brokenInvariant("status 'done'"), .refusedContent), (ServiceError.missingRow("id"), .fatal),
            (ServiceError.brokenSharedRow("subscription status 'gone'"), .fatal),
            (PostgresTransactionError(cause: refused, rollbackFailure: lost), .refusedContent),
            (KafkaError(code: -195, name: "_TRANSPORT", message: "", isRetriable: true, isFatal: false), .transient),
            (KafkaError(code: -150, name: "_FATAL", message: "", isRetriable: false, isFatal: true), .fatal),
            (CocoaError(.fileNoSuchFile), .fatal),
        ]
        for (error, expected) in cases { XCTAssertEqual(FailurePolicy.classify(error), expected, "\(error)") }
        var backoff = Backoff(initial: .milliseconds(50), maximum: .milliseconds(150))
        XCTAssertEqual(FailurePolicy.disposition(of: lost, isolatable: true, backoff: &backoff), .retry(after: .milliseconds(50)))
        XCTAssertEqual(FailurePolicy.disposition(of: lost, isolatable: true, backoff: &backoff), .retry(after: .milliseconds(100)))
        XCTAssertEqual(FailurePolicy.disposition(of: lost, isolatable: true, backoff: &backoff), .retry(after: .milliseconds(150)))
        XCTAssertEqual(FailurePolicy.disposition(of: lost, isolatable: true, backoff: &backoff), .retry(after: .milliseconds(150)))
        XCTAssertEqual(FailurePolicy.disposition(of: refused, isolatable: true, backoff: &backoff), .isolate)
        XCTAssertEqual(FailurePolicy.disposition(of: refused, isolatable: false, backoff: &backoff), .fatal)
    }

    /// The database refuses one report's content: the batch is applied one report at a time,
    /// and only that report is dead-lettered, with the database's reason.
    func testARefusedBatchIsAppliedOneAtATimeAndOnlyTheCulpritIsDeadLettered() throws {
        let store = FailingStore(startedJobs: ["j1", "bad", "j2"]) { [refused] _, reports in
            reports.contains { $0.jobId == "bad" } ? refused : nil
        }
        let applied = try processor(store).process([FailingStore.report("j1", offset: 1), FailingStore.report("bad", offset: 2),
                                                    FailingStore.report("j2", offset: 3)])
        XCTAssertEqual(applied.effects.results.map(\.code), [200, 400, 200])
        XCTAssertEqual(applied.effects.results[1].message, "the database refused this report: \(refused)")
        XCTAssertEqual(store.calls.withLock { $0 }, [["j1", "bad", "j2"], ["j1"], ["bad"], [], ["j2"]],
                       "the batch, then each report, the culprit's dead letter touching no job")
    }

    func testAStoredRowThatBreaksAnInvariantIsIsolatedLikeARefusal() throws {
        let store = FailingStore(startedJobs: ["j1", "odd"]) { _, reports in
            reports.contains { $0.jobId == "odd" } ? ServiceError.brokenInvariant("column 'status': unknown value 'done'") : nil
        }
        let applied = try processor(store).process([FailingStore.report("j1", offset: 1), FailingStore.report("odd", offset: 2)])
        XCTAssertEqual(applied.effects.results.map(\.code), [200, 400])
    }

    /// Transient failures are not the content's fault: no isolation, the batch is retried whole.
    func testATransientFailureIsThrownForARetryWithoutIsolating() {
        let store = FailingStore(startedJobs: ["j1", "j2"]) { [lost] _, _ in lost }
        XCTAssertThrowsError(try processor(store).process([FailingStore.report("j1", offset: 1), FailingStore.report("j2", offset: 2)]))
        XCTAssertEqual(store.calls.withLock { $0.count }, 1)
    }

    /// A report whose dead letter the database refuses too cannot be got past: it is thrown,
    /// and for the workers it is fatal (the member stops; nothing was marked).
    func testAReportThatCannotEvenBeDeadLetteredIsThrown() {
        let store = FailingStore(startedJobs: ["j1"]) { [refused] _, _ in refused }
        XCTAssertThrowsError(try processor(store).process([FailingStore.report("j1", offset: 1)])) {
            XCTAssertEqual(FailurePolicy.classify($0), .refusedContent)
        }
    }

    private func workers(_ store: FailingStore, ending: Latch<ServiceEnding>, applied: AppliedLog) -> BatchWorkers {
        var settings = ServiceSettings(brokers: "unused", databaseURL: nil)
        settings.workers = 1
        return BatchWorkers(count: 1, settings: settings, ending: ending, makeStore: { store }) { batch in
            applied.batches.withLock { $0.append(batch) }
        }
    }

    func testAWorkerRetriesATransientFailureUntilItPassesAndMarksOnce() {
        let store = FailingStore(startedJobs: ["j1"]) { [lost] call, _ in call <= 2 ? lost : nil }
        let ending = Latch<ServiceEnding>(), applied = AppliedLog()
        let w = workers(store, ending: ending, applied: applied)
        w.start()
        defer { w.stop() }
        w.submit([FailingStore.report("j1", offset: 7)])
        XCTAssertTrue(waitUntil { applied.batches.withLock { $0.count } == 1 })
        XCTAssertEqual(w.takeApplied(), [TopicPartition("reports", 0): 7])
        XCTAssertEqual(store.calls.withLock { $0.count }, 3)
        XCTAssertNil(ending.current)
    }

    /// Every error has an outcome: one nothing can fix stops the member instead of blocking
    /// the worker's partitions for ever, and the batch is not marked; nor is a later batch of
    /// the same partition, whose mark would carry the committed offset past the failed one.
    func testAFailureNothingCanFixStopsTheMemberUnmarked() {
        let store = FailingStore(startedJobs: ["j1", "j2"]) { call, _ in
            call == 1 ? PostgresError(sqlState: "42P01", message: "relation \"jobs\" does not exist") : nil
        }
        let ending = Latch<ServiceEnding>(), applied = AppliedLog()
        let w = workers(store, ending: ending, applied: applied)
        w.start()
        defer { w.stop() }
        w.submit([FailingStore.report("j1", offset: 7)])
        guard case .failure(let reason)? = ending.wait(timeout: .seconds(10)) else { return XCTFail("the member must stop") }
        XCTAssertTrue(reason.contains("42P01"), reason)
        w.submit([FailingStore.report("j2", offset: 8)])
        Thread.sleep(forTimeInterval: 0.3)  // time for a worker that would take it (none must)
        XCTAssertEqual(store.calls.withLock { $0.count }, 1, "no batch is taken after one was given up")
        XCTAssertTrue(w.takeApplied().isEmpty)
        XCTAssertEqual(applied.batches.withLock { $0.count }, 0)
    }

    /// A stop while the database is down: the retrying batch is given up, unmarked, at once.
    func testAbandoningRetriesEndsTheWaitForABatchThatCannotPass() {
        let store = FailingStore(startedJobs: ["j1"]) { [lost] _, _ in lost }
        let ending = Latch<ServiceEnding>(), applied = AppliedLog()
        let w = workers(store, ending: ending, applied: applied)
        w.start()
        defer { w.stop() }
        w.submit([FailingStore.report("j1", offset: 7)])
        XCTAssertTrue(waitUntil { store.calls.withLock { $0.count } >= 2 }, "it is retrying")
        w.abandonRetries()
        let attempts = store.calls.withLock { $0.count }
        let gaveUp = Latch<Void>()
        Thread { w.waitForBatchesInProgress(); gaveUp.open() }.start()
        XCTAssertNotNil(gaveUp.wait(timeout: .seconds(10)), "waiting for batches in progress ends")
        XCTAssertEqual(store.calls.withLock { $0.count }, attempts, "no attempt after the retries were abandoned")
        XCTAssertTrue(w.takeApplied().isEmpty)
        XCTAssertNil(ending.current, "giving up on a stop is not a failure")
    }

}

final class AppliedLog: Sendable {
    let batches = Mutex<[AppliedBatch]>([])
}

/// The utilisation in the status line is a share of the time since the last status line.
final class WorkerUtilisationTests: XCTestCase {
    /// A batch that takes long (retrying through an outage, say) is counted as it goes, never
    /// all at once in the interval in which it ends.
    func testBusyTimeIsCountedInTheIntervalItPassesIn() {
        let release = Latch<Void>()
        let store = FailingStore(startedJobs: ["j1"]) { _, _ in release.wait(); return nil }
        var settings = ServiceSettings(brokers: "unused", databaseURL: nil)
        settings.workers = 1
        let applied = AppliedLog()
        let w = BatchWorkers(count: 1, settings: settings, ending: Latch(), makeStore: { store }) { batch in
            applied.batches.withLock { $0.append(batch) }
        }
        w.start()
        defer { w.stop() }
        w.submit([FailingStore.report("j1", offset: 1)])
        let started = ContinuousClock.now + .seconds(10)
        while store.calls.withLock({ $0.isEmpty }) && ContinuousClock.now < started { Thread.sleep(forTimeInterval: 0.01) }
        Thread.sleep(forTimeInterval: 0.2)
        let lastTake = ContinuousClock.now
        let first = w.takeBusySeconds()
        XCTAssertGreaterThan(first, 0, "a batch in progress counts while it runs")
        Thread.sleep(forTimeInterval: 0.1)
        release.open()
        let deadline = ContinuousClock.now + .seconds(10)
        while applied.batches.withLock({ $0.isEmpty }) && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.01) }
        let second = w.takeBusySeconds()
        XCTAssertLessThanOrEqual(second, (ContinuousClock.now - lastTake).seconds + 0.01,
                                 "busy time since the last take cannot exceed the time since it")
    }
}
