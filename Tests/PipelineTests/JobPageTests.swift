import CascadeDomain
import CascadeService
import Foundation
import Postgres
import TestSupport
import XCTest

/// Completing a job must update its row in place (a HOT update: no new index entry, no lock
/// record, a smaller WAL record), which needs room on the row's page: the jobs table's
/// fillfactor (migration 5). A row that stays on its block was updated HOT; on full pages
/// (fillfactor 100, as before) most completed rows move to another block.
final class JobPageTests: XCTestCase {
    private var database: PrivateDatabase!
    private var f: PipelineFixture!

    override func setUpWithError() throws {
        database = try PrivateDatabase("jobpages")
        f = try PipelineFixture(databaseURL: database.url)
    }

    override func tearDownWithError() throws {
        f?.close()
        database?.drop()
    }

    func testCompletedJobsStayOnTheirPages() throws {
        let source = try f.model("src"), target = try f.model("dst")
        try f.subscribe(source, target)
        // Pages of started jobs (several even when packed full), completed in four rounds that
        // each touch every page, as completions arrive spread over time in production.
        let jobs = try (0..<200).map { _ in try f.startedJob(source) }
        let before = try blocks(jobs)
        XCTAssertGreaterThan(Set(before.values).count, 1, "the jobs span several pages")

        let consumer = try f.startConsumer()
        defer { consumer.signal(SIGTERM); _ = consumer.wait() }
        for round in 0..<4 {
            let batch = jobs.enumerated().filter { $0.offset % 4 == round }.map(\.element)
            for job in batch { try f.report(job) }
            for job in batch { XCTAssertEqual(f.results(for: job.id).first?["code"], 200, "log:\n\(consumer.log)") }
        }

        XCTAssertEqual(try f.count("SELECT count(*) AS n FROM jobs WHERE status = 'success' AND model_id = $1", [source]), 200)
        let after = try blocks(jobs)
        let moved = jobs.filter { before[$0.id] != after[$0.id] }.map(\.id)
        XCTAssertEqual(moved, [], "completed rows moved off their pages: not HOT updates")
    }

    private func blocks(_ jobs: [Job]) throws -> [String: Int64] {
        let rows = try f.db.query("SELECT job_id, (ctid::text::point)[0]::bigint AS block FROM jobs WHERE job_id = ANY($1::text[])",
                                  [PostgresArray(jobs.map(\.id))]).rows
        return Dictionary(uniqueKeysWithValues: try rows.map { (try $0.string("job_id"), try $0.int("block")) })
    }
}
