import CascadeDomain
@testable import CascadeService
import Foundation
import Kafka
import Postgres
import TestSupport
import XCTest

/// Migration 3 reshapes the outcomes and the outbox. An upgrade must carry over what the old
/// shape held: outcome rows, and messages committed but not yet published.
final class MigrationTests: XCTestCase {
    private var f: PipelineFixture!
    private var database: PrivateDatabase!
    private var db: PostgresConnection!

    override func setUpWithError() throws {
        f = try PipelineFixture()
        database = try PrivateDatabase("migration")
        db = try PostgresConnection(url: database.url)
        XCTAssertEqual(try Migrator.migrate(db, upTo: 2), [1, 2])
    }

    override func tearDownWithError() throws {
        db = nil
        database?.drop()
        f?.close()
    }

    func testOutcomeRowsMoveOntoTheirJobsInFiringOrder() throws {
        let first = UUID(), second = UUID()
        try db.execute(script: """
            INSERT INTO jobs (job_id, model_id, model_version, job_type, status) VALUES
                ('parent', 'm', 'v1', 'inference', 'success'), ('lonely', 'm', 'v1', 'inference', 'failure');
            INSERT INTO subscription_outcomes (source_job_id, position, subscription_id, triggered_job_id, error, recorded_at) VALUES
                ('parent', 1, '\(second.uuidString)', NULL, 'target model t has no active version', now()),
                ('parent', 0, '\(first.uuidString)', 'child', NULL, now());
            """)
        XCTAssertEqual(try Migrator.migrate(db, upTo: 3), [3])

        let registry = RegistryStore(db: db)
        XCTAssertEqual(try registry.outcomes(sourceJobId: "parent"), [
            .triggered(subscriptionId: first, jobId: "child"),
            .failed(subscriptionId: second, error: "target model t has no active version"),
        ])
        XCTAssertEqual(try registry.outcomes(sourceJobId: "lonely"), [])
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM pg_tables WHERE tablename = 'subscription_outcomes'").first!.int("n"), 0)
    }

    /// Old rows become one-message rows that the relay's sweep publishes byte for byte,
    /// headers included (text, bytes that are not UTF-8, and none).
    func testUnpublishedRowsArePublishedAfterTheUpgrade() throws {
        let binary: [UInt8] = [0xFF, 0x00, 0xC3]
        try db.query("""
            INSERT INTO outbox (topic, key, value, headers, created_at) VALUES
                ($1, 'job-1'::bytea, '{"code":200}'::bytea, '[{"name":"request-id","value":"req-ü"}]', now() - interval '1 minute'),
                ($2, NULL, $3::bytea, $4::jsonb, now() - interval '1 minute')
            """, [f.topics.results, f.topics.requests, PostgresBytes(binary),
                  PostgresJSON(#"[{"name":"raw","base64":"\#(Data(binary).base64EncodedString())"},{"name":"empty"}]"#)])
        XCTAssertEqual(try Migrator.migrate(db, upTo: 3), [3])
        XCTAssertEqual(try db.query("SELECT sum(message_count) AS n FROM outbox").first!.int("n"), 2)
        XCTAssertEqual(try Migrator.migrate(db), [4, 5, 6], "the rest of the upgrade, before the relay runs")

        var settings = ServiceSettings(brokers: f.brokers, databaseURL: database.url)
        settings.topics = f.topics
        let producer = try KafkaProducer(config: TestEnvironment.producerConfig(brokers: f.brokers))
        let relay = OutboxRelay(settings: settings, producer: producer, ending: Latch())
        relay.start()
        defer {
            relay.stop()
            try? producer.close()
        }
        XCTAssertTrue(eventually(timeout: 30) { f.reader.messages(f.topics.requests).count == 1 && f.reader.messages(f.topics.results).count == 1 })
        let result = try XCTUnwrap(f.reader.messages(f.topics.results).first?.message)
        XCTAssertEqual(result.key, Array("job-1".utf8))
        XCTAssertEqual(result.value, Array(#"{"code":200}"#.utf8))
        XCTAssertEqual(result.headers.map(\.name), ["request-id"])
        XCTAssertEqual(result.header("request-id")?.stringValue, "req-ü")
        let request = try XCTUnwrap(f.reader.messages(f.topics.requests).first?.message)
        XCTAssertNil(request.key)
        XCTAssertEqual(request.value, binary)
        XCTAssertEqual(request.headers.map(\.name), ["raw", "empty"])
        XCTAssertEqual(request.header("raw")?.value, binary)
        XCTAssertNil(request.header("empty")?.value)
        XCTAssertTrue(eventually(timeout: 10) { (try? self.db.query("SELECT count(*) AS n FROM outbox").first!.int("n")) == 0 },
                      "published rows are deleted")
    }

    /// Migration 5 leaves room on job pages (JobPageTests), unless an operator chose a fillfactor.
    func testJobsGetRoomForHOTCompletionsUnlessAnOperatorChoseAFillfactor() throws {
        XCTAssertEqual(try Migrator.migrate(db, upTo: 4), [3, 4])
        try db.query("ALTER TABLE jobs SET (fillfactor = 80)")
        XCTAssertEqual(try Migrator.migrate(db), [5, 6])
        XCTAssertEqual(try jobsOptions(db), "{fillfactor=80}")

        let fresh = try PrivateDatabase("migration_fresh")
        defer { fresh.drop() }
        let freshDB = try PostgresConnection(url: fresh.url)
        XCTAssertEqual(try Migrator.migrate(freshDB), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try jobsOptions(freshDB), "{fillfactor=35}")
    }

    private func jobsOptions(_ db: PostgresConnection) throws -> String? {
        try db.query("SELECT reloptions::text AS o FROM pg_class WHERE oid = 'jobs'::regclass").first!.optionalString("o")
    }
}
