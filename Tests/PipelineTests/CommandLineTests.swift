import CascadeDomain
import Foundation
import Postgres
import TestSupport
import XCTest

/// The `cascade` verbs as an operator runs them: answers are JSON on standard output, failures
/// say which verb failed.
final class CommandLineTests: XCTestCase {
    private func run(_ arguments: [String]) throws -> (code: Int32, lines: [String]) {
        let log = NSTemporaryDirectory() + "\(TestEnvironment.unique("cli")).log"
        let process = try ChildProcess(PipelineFixture.binary, arguments + ["--database-url", try TestEnvironment.databaseURL],
                                       logPath: log)
        return (process.wait(), process.log.split(separator: "\n").map(String.init))
    }

    func testJobGetOfAMissingJobAnswersInJSONAndNamesTheVerb() throws {
        let id = TestEnvironment.unique("missing-job")
        let (code, lines) = try run(["job", "get", id])
        XCTAssertEqual(code, 1)
        let answers = lines.compactMap { try? JSONParser.parse($0) }
        XCTAssertEqual(answers, [["error": "not_found", "message": .string("no job \(id)"), "job_id": .string(id)]], "\(lines)")
        XCTAssertTrue(lines.contains("cascade job get: no job \(id)"), "\(lines)")
    }

    /// `cascade --version` as a person runs it: JSON naming Cascade, librdkafka and libpq.
    func testVersionPrintsCascadeAndItsLibraries() throws {
        let log = NSTemporaryDirectory() + "\(TestEnvironment.unique("version")).log"
        let process = try ChildProcess(PipelineFixture.binary, ["--version"], logPath: log)
        XCTAssertEqual(process.wait(), 0)
        let answer = try JSONParser.parse(process.log.trimmingCharacters(in: .whitespacesAndNewlines))
        XCTAssertNotNil(answer["cascade"]?.stringValue)
        for library in ["librdkafka", "libpq"] {
            let text = answer[library]?.stringValue ?? ""
            XCTAssertTrue(text.split(separator: ".").count >= 2 && text.first?.isNumber == true, "\(library): \(answer)")
        }
    }

    /// A foreign-key failure is said in words, with the verb's prefix, not as SQLSTATE 23503.
    func testAVersionOfAMissingModelSaysWhichModel() throws {
        let id = TestEnvironment.unique("nosuch")
        let (code, lines) = try run(["version", "create", id, "v1"])
        XCTAssertEqual(code, 1)
        XCTAssertTrue(lines.contains("cascade version create: no model \(id)"), "\(lines)")
        XCTAssertFalse(lines.contains { $0.contains("23503") }, "\(lines)")
    }

    func testModelCreateTakesBothAsItsHelpSays() throws {
        let id = TestEnvironment.unique("both-model")
        let (code, lines) = try run(["model", "create", id, "--actions", "both"])
        XCTAssertEqual(code, 0, "\(lines)")
        XCTAssertEqual(lines.compactMap { try? JSONParser.parse($0) }.first?["actions"], ["inference", "training"])
        let (badCode, badLines) = try run(["model", "create", id, "--actions", "inference,"])
        XCTAssertEqual(badCode, 2)
        XCTAssertTrue(badLines.contains { $0.contains("'' is not inference, training or both") }, "\(badLines)")
    }

    private func answer(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> JSONValue {
        let (code, lines) = try run(arguments)
        XCTAssertEqual(code, 0, "\(lines)", file: file, line: line)
        return try XCTUnwrap(lines.lazy.compactMap { try? JSONParser.parse($0) }.first, "\(lines)", file: file, line: line)
    }

    func testModelAndVersionListsShowWhatWasCreated() throws {
        let model = TestEnvironment.unique("listed")
        _ = try answer(["model", "create", model, "--actions", "training"])
        _ = try answer(["version", "create", model, "v1", "--status", "training"])
        _ = try answer(["version", "create", model, "v2"])
        guard case .array(let models) = try answer(["model", "list"]) else { return XCTFail("not an array") }
        let listed = try XCTUnwrap(models.first { $0["model_id"]?.stringValue == model })
        XCTAssertEqual(listed["actions"], ["training"])
        XCTAssertEqual(listed["versions"], 2)
        guard case .array(let versions) = try answer(["version", "list", model]) else { return XCTFail("not an array") }
        XCTAssertEqual(versions.map { $0["version"] }, ["v1", "v2"])
        XCTAssertEqual(versions.map { $0["status"] }, ["training", "active"])
        let (code, lines) = try run(["version", "list", model + "-nosuch"])
        XCTAssertEqual(code, 1)
        XCTAssertTrue(lines.contains("cascade version list: no model \(model)-nosuch"), "\(lines)")
    }

    /// Keyset paging: each page starts after the last id of the one before; together the pages
    /// hold every match once, in id order, and the filters apply on every page.
    func testJobListPagesByCursorAndFilters() throws {
        let model = TestEnvironment.unique("paged")
        _ = try answer(["model", "create", model])
        _ = try answer(["version", "create", model, "v1"])
        let ids = (1...5).map { "\(model)-job-\($0)" }
        for (i, id) in ids.enumerated() {
            _ = try answer(["job", "create", "--model", model, "--version", "v1", "--id", id, "--status", i < 2 ? "pending" : "started"])
        }
        var seen: [String] = [], cursor: String?, pages = 0
        repeat {
            let page = try answer(["job", "list", "--model", model, "--limit", "2"] + (cursor.map { ["--cursor", $0] } ?? []))
            guard case .array(let jobs)? = page["jobs"] else { return XCTFail("\(page)") }
            XCTAssertLessThanOrEqual(jobs.count, 2)
            seen += jobs.compactMap { $0["job_id"]?.stringValue }
            cursor = page["next_cursor"]?.stringValue
            pages += 1
        } while cursor != nil && pages < 10
        XCTAssertEqual(seen, ids, "every job once, in id order")
        XCTAssertEqual(pages, 3)
        let pending = try answer(["job", "list", "--model", model, "--status", "pending"])
        XCTAssertEqual(pending["jobs"].map { j -> [String] in if case .array(let a) = j { a.compactMap { $0["job_id"]?.stringValue } } else { [] } },
                       Array(ids.prefix(2)))
        let recent = try answer(["job", "list", "--model", model, "--since", "1h"])
        XCTAssertEqual(recent["next_cursor"], .null)
        let future = try answer(["job", "list", "--model", model, "--since", "2999-01-01T00:00:00Z"])
        XCTAssertEqual(future["jobs"], .array([]))
        let (badCode, badLines) = try run(["job", "list", "--since", "yesterday"])
        XCTAssertEqual(badCode, 2)
        XCTAssertTrue(badLines.contains { $0.contains("--since: 'yesterday'") }, "\(badLines)")
        XCTAssertEqual(try run(["job", "list", "--limit", "0"]).code, 2)
    }

    func testParkedListShowsWhereEachMessageCameFromAndWhy() throws {
        let db = try PostgresConnection(url: try TestEnvironment.databaseURL)
        let topic = TestEnvironment.unique("parked-topic")
        let row = Int64.random(in: 1_000_000...Int64(Int32.max))  // parking is unique per outbox row and position
        let message = OutboxMessage(topic: topic, key: Array("job-9".utf8), value: Array("{}".utf8),
                                    headers: [OutboxHeader("event-id", "e-9")])
        try db.query("""
            INSERT INTO parked_messages (topic, event_id, size, message, reason, outbox_row, position)
            VALUES ($1, 'e-9', $2, $3::bytea, 'refused by the broker: MSG_SIZE_TOO_LARGE', $4, 3)
            """, [topic, message.size, PostgresBytes(OutboxFraming.encode([message])), row])
        let (code, lines) = try run(["parked", "list", "--limit", "1000000"])
        XCTAssertEqual(code, 0, "\(lines)")
        guard case .array(let records)? = lines.compactMap({ try? JSONParser.parse($0) }).first else { return XCTFail("\(lines)") }
        let record = try XCTUnwrap(records.first { $0["topic"]?.stringValue == topic })
        XCTAssertEqual(record["event_id"], "e-9")
        XCTAssertEqual(record["outbox_row"], .int(row))
        XCTAssertEqual(record["position"], 3)
        XCTAssertEqual(record["key"], "job-9")
        XCTAssertEqual(record["reason"], "refused by the broker: MSG_SIZE_TOO_LARGE")
        XCTAssertEqual(record["headers"], [["name": "event-id", "value": "e-9"]])

        let (badCode, badLines) = try run(["parked", "resend", "--all", "--id", "1", "--brokers", "127.0.0.1:1"])
        XCTAssertEqual(badCode, 2, "\(badLines)")
    }
}
