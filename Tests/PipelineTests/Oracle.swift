import CascadeDomain
import Foundation
import Kafka
import Postgres
import TestSupport
import XCTest

/// The one check every crash, rebalance and fault scenario ends with (docs/RELIABILITY.md):
/// - every report's job is terminal exactly once, with the reported status;
/// - one downstream job (and one outcome record) per success per active subscription, none
///   for failures;
/// - every downstream job id reached the requests topic, its `event-id` the same on every re-send;
/// - every report has a result record, and its first answers are one and the same bytes;
///   every answer carries its report's event-id;
/// - the outbox is empty;
/// - the dead-letter topic holds exactly what was sent bad.
/// It asserts each, and returns the counts for the fault table.
struct Oracle {
    struct Verdict {
        var reports = 0
        /// Reports not applied, downstream requests never published, reports never answered.
        var lost = 0
        /// Downstream jobs or outcome records beyond one per success per subscription, reports
        /// answered twice with different bytes, re-sends with a new event-id.
        var duplicatedEffects = 0
        /// Seconds from the call until everything was drained and published.
        var drainSeconds = 0.0
        var deadLetters = 0
    }

    /// Waits (at most `timeout`) for the backlog to drain, then checks everything above.
    @discardableResult
    static func verify(_ f: PipelineFixture, _ backlog: Backlog, deadLetters expectedDeadLetters: Int = 0, timeout: TimeInterval = 180,
                       file: StaticString = #filePath, line: UInt = #line) throws -> Verdict {
        var verdict = Verdict(reports: backlog.jobs.count)
        let started = Date()
        let total = Int64(backlog.jobs.count)
        let drained = try eventually(timeout: timeout, interval: 0.2) { try backlog.terminalCount(f) == total && backlog.unpublishedCount(f) == 0 }
        let applied = try backlog.terminalCount(f), unpublished = try backlog.unpublishedCount(f)
        XCTAssertTrue(drained, "not drained: \(applied) of \(total) applied, \(unpublished) outbox rows left", file: file, line: line)
        verdict.lost += Int(total - applied)

        let successCount = try f.count("SELECT count(*) AS n FROM jobs WHERE job_id >= $1 AND job_id < $2 AND status = 'success'", backlog.range(f))
        XCTAssertEqual(successCount, Int64(backlog.successes.count), "jobs with the status success", file: file, line: line)
        let children = try f.db.query("SELECT parent_job_id, job_id FROM jobs WHERE parent_job_id LIKE $1", ["\(f.id)-%"]).rows
        let expectedChildren = backlog.successes.count * backlog.subscriptions
        XCTAssertEqual(children.count, expectedChildren, "downstream jobs", file: file, line: line)
        verdict.duplicatedEffects += max(0, children.count - expectedChildren)
        let parents = try children.map { try $0.string("parent_job_id") }
        XCTAssertEqual(Set(parents), backlog.successes, "the jobs that fired are the successes", file: file, line: line)
        let outcomes = try f.count("SELECT coalesce(sum(jsonb_array_length(subscription_outcomes)), 0) AS n FROM jobs WHERE job_id >= $1 AND job_id < $2",
                                   backlog.range(f))
        XCTAssertEqual(outcomes, Int64(expectedChildren), "outcome records", file: file, line: line)
        verdict.duplicatedEffects += max(0, Int(outcomes) - expectedChildren)

        // Every downstream request reached the broker; a re-send carries the same event-id.
        let childIds = Set(try children.map { try $0.string("job_id") })
        var published = Set<String>()
        XCTAssertTrue(eventually(timeout: 60, interval: 0.2) {
            published = Set(f.reader.messages(f.topics.requests).compactMap(\.message.keyString))
            return published.isSuperset(of: childIds)
        }, "\(childIds.subtracting(published).count) downstream requests missing", file: file, line: line)
        verdict.lost += childIds.subtracting(published).count
        let phantoms = published.subtracting(childIds)
        XCTAssertTrue(phantoms.isEmpty, "\(phantoms.count) downstream requests for jobs that do not exist", file: file, line: line)
        verdict.duplicatedEffects += phantoms.count
        var eventIdOfJob: [String: String] = [:]
        for request in f.reader.messages(f.topics.requests) {
            guard let key = request.message.keyString, let eventId = request.header("event-id") else {
                XCTFail("a downstream request without a key or an event-id", file: file, line: line)
                continue
            }
            if eventIdOfJob[key, default: eventId] != eventId {
                verdict.duplicatedEffects += 1
                XCTFail("a re-send of \(key) changed its event-id", file: file, line: line)
            }
            eventIdOfJob[key] = eventId
        }
        XCTAssertEqual(Set(eventIdOfJob.values).count, eventIdOfJob.count, "two downstream jobs share an event-id", file: file, line: line)

        // Every report was answered; its first (non-duplicate) answers are the same bytes.
        var answered = Set<String>()
        XCTAssertTrue(eventually(timeout: 60, interval: 0.2) {
            answered = Set(f.reader.messages(f.topics.results).compactMap { $0.json?["job_id"]?.stringValue })
            return answered.isSuperset(of: backlog.jobs)
        }, "result records missing", file: file, line: line)
        verdict.lost += Set(backlog.jobs).subtracting(answered).count
        var firstAnswers: [String: Set<[UInt8]>] = [:]
        for result in f.reader.messages(f.topics.results) {
            guard let json = result.json else { XCTFail("a result record that is not JSON", file: file, line: line); continue }
            XCTAssertEqual(result.header("event-id"), json.reportSource?.eventId(.result).lowercasedText,
                           "a result record's event-id is not its report's", file: file, line: line)
            if json["duplicate"] == false, let job = json["job_id"]?.stringValue {
                firstAnswers[job, default: []].insert(result.message.value ?? [])
            }
        }
        let answeredTwice = firstAnswers.values.filter { $0.count != 1 }.count
        XCTAssertEqual(answeredTwice, 0, "reports applied twice with different answers", file: file, line: line)
        verdict.duplicatedEffects += answeredTwice

        XCTAssertEqual(try backlog.unpublishedCount(f), 0, "outbox rows left", file: file, line: line)
        verdict.deadLetters = f.reader.messages(f.topics.deadLetters).count
        XCTAssertEqual(verdict.deadLetters, expectedDeadLetters, "dead letters that were not sent bad, or bad ones missing",
                       file: file, line: line)
        verdict.drainSeconds = Date().timeIntervalSince(started)
        return verdict
    }
}
