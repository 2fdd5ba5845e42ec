import Foundation
import Postgres
import TestSupport
import XCTest

/// The libpq layer against a real PostgreSQL server.
final class PostgresConnectionTests: XCTestCase {
    private var db: PostgresConnection!
    private var table = ""

    override func setUpWithError() throws {
        db = try PostgresConnection(url: try TestEnvironment.databaseURL)
        table = "t_" + TestEnvironment.unique("pg").replacingOccurrences(of: "-", with: "_")
        try db.query("CREATE TABLE \(table) (id bigint PRIMARY KEY, note text)")
    }

    override func tearDownWithError() throws {
        if db?.isConnected == true { try db.query("DROP TABLE IF EXISTS \(table)") }
    }

    func testParametersRoundTripNullUnicodeJSONLargeTextAndTimestamps() throws {
        let unicode = "naïve — 模型 🚀 \u{7f}"
        let large = String(repeating: "x", count: 1_500_000)
        let json = #"{"paths": ["s3://b/k"], "n": 1.5, "nested": {"ok": true}}"#
        let instant = Date(timeIntervalSince1970: 1_795_000_000.123456)
        let uuid = UUID()
        let row = try XCTUnwrap(db.query(
            "SELECT $1::text AS null_text, $2::text AS unicode, $3::text AS large, $4::jsonb AS doc, "
                + "$5::timestamptz AS at, $6::uuid AS id, $7::bigint AS big, $8::bool AS flag, $9::int AS none_int",
            [String?.none, unicode, large, PostgresJSON(json), instant, uuid, Int64.max, true, Int?.none]
        ).first)
        XCTAssertNil(try row.optionalString("null_text"))
        XCTAssertTrue(try row.isNull("none_int"))
        XCTAssertEqual(try row.string("unicode"), unicode)
        XCTAssertEqual(try row.string("large").count, large.count)
        let doc = try XCTUnwrap(row.optionalJSON("doc") as? [String: Any])
        XCTAssertEqual(doc["paths"] as? [String], ["s3://b/k"])
        XCTAssertEqual((doc["nested"] as? [String: Any])?["ok"] as? Bool, true)
        XCTAssertEqual(try row.date("at").timeIntervalSince1970, instant.timeIntervalSince1970, accuracy: 0.000001)
        XCTAssertEqual(try row.uuid("id"), uuid)
        XCTAssertEqual(try row.int("big"), Int64.max)
        XCTAssertTrue(try row.bool("flag"))
    }

    func testTypedAccessorsNameTheColumnOnNullOrWrongType() throws {
        let row = try XCTUnwrap(db.query("SELECT NULL::text AS gone, 'abc' AS word").first)
        XCTAssertThrowsError(try row.string("gone")) { XCTAssertTrue("\($0)".contains("gone")) }
        XCTAssertThrowsError(try row.int("word")) { XCTAssertTrue("\($0)".contains("word")) }
        XCTAssertThrowsError(try row.string("missing")) { XCTAssertTrue("\($0)".contains("missing")) }
    }

    func testArraysExpandWithUnnestIncludingQuotesAndNulls() throws {
        let notes: [String?] = [#"say "hi""#, #"back\slash"#, nil, "{brace},comma"]
        try db.query("INSERT INTO \(table) (id, note) SELECT * FROM unnest($1::bigint[], $2::text[])",
                     [PostgresArray([Int64(1), 2, 3, 4]), PostgresArray(notes)])
        let rows = try db.query("SELECT note FROM \(table) ORDER BY id").rows
        XCTAssertEqual(try rows.map { try $0.optionalString("note") }, notes)
    }

    func testByteaArraysRoundTripEveryByteAndNull() throws {
        let values: [[UInt8]?] = [Array(0...255), nil, [], Array(#""\{},"#.utf8)]
        let rows = try db.query("SELECT v FROM unnest($1::bytea[]) WITH ORDINALITY AS u(v, n) ORDER BY n",
                                [PostgresArray.bytea(values)]).rows
        XCTAssertEqual(try rows.map { try $0.optionalBytes("v") }, values)
    }

    /// Every element type the binary array format carries, read back through the server's own
    /// text output: NULLs, empty and awkward strings, times before 2000 and with microseconds.
    func testBinaryArraysOfEveryElementTypeRoundTrip() throws {
        func roundTrip(_ array: PostgresArray, _ cast: String) throws -> [String?] {
            try db.query("SELECT v::text AS v FROM unnest($1::\(cast)[]) WITH ORDINALITY AS u(v, n) ORDER BY n", [array])
                .rows.map { try $0.optionalString("v") }
        }
        let texts: [String?] = ["", #"say "hi""#, #"back\slash"#, nil, "{brace},comma", "模型 🚀", "NULL"]
        XCTAssertEqual(try roundTrip(PostgresArray(texts), "text"), texts)
        XCTAssertEqual(try roundTrip(PostgresArray([Int64.min, -1, 0, Int64.max]), "bigint"),
                       ["-9223372036854775808", "-1", "0", "9223372036854775807"])
        XCTAssertEqual(try roundTrip(PostgresArray([7, nil] as [Int?]), "bigint"), ["7", nil])
        XCTAssertEqual(try roundTrip(PostgresArray([Int32.min, 42]), "integer"), ["-2147483648", "42"])
        XCTAssertEqual(try roundTrip(PostgresArray([true, false, nil] as [Bool?]), "boolean"), ["true", "false", nil])
        let id = UUID()
        XCTAssertEqual(try roundTrip(PostgresArray([id, nil] as [UUID?]), "uuid"), [id.uuidString.lowercased(), nil])
        XCTAssertEqual(try db.query("SELECT $1::uuid::text AS v", [id]).first!.string("v"), id.uuidString.lowercased(), "a scalar uuid, in binary")
        let times = [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 1_795_000_000.123456),
                     Date(timeIntervalSince1970: -1.5)]
        XCTAssertEqual(try roundTrip(PostgresArray(times), "timestamptz"),
                       ["1970-01-01 00:00:00+00", "2026-11-18 11:06:40.123456+00", "1969-12-31 23:59:58.5+00"])
        XCTAssertEqual(try roundTrip(PostgresArray([String]()), "text"), [])
    }

    func testAnArrayWhoseCastNamesAnotherElementTypeIsRefused() {
        XCTAssertThrowsError(try db.query("SELECT cardinality($1::integer[]) AS n", [PostgresArray([1, 2] as [Int])])) {
            XCTAssertTrue("\($0)".contains("element type 20 (bigint) instead of expected 23"), "\($0)")
        }
    }

    /// bytea travels in the binary format: every byte value, empty, NULL, and a large value
    /// in a pipeline beside text parameters (whose formats must not be mixed up with it).
    func testByteaBindsInBinaryWithTextBesideIt() throws {
        let large = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let values: [PostgresBytes?] = [PostgresBytes(Array(0...255)), PostgresBytes([]), nil, PostgresBytes(large)]
        let results = try db.pipeline(values.map { PipelineStatement("SELECT $1::bytea AS v, $2::text AS t, length($1::bytea) AS n", [$0, "beside"]) })
        for (value, result) in zip(values, results) {
            XCTAssertEqual(try result.first!.optionalBytes("v"), value?.bytes)
            XCTAssertEqual(try result.first!.string("t"), "beside")
        }
        XCTAssertEqual(try db.query("SELECT length($1::bytea) AS n", [PostgresBytes(large)]).first!.int("n"), 300_000)
    }

    func testRollbackOnThrowLeavesNothingBehind() throws {
        struct Boom: Error {}
        XCTAssertThrowsError(try db.withTransaction { tx in
            try tx.query("INSERT INTO \(table) (id, note) VALUES ($1, $2)", [1, "doomed"])
            throw Boom()
        }) { XCTAssertTrue($0 is Boom) }
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM \(table)").first?.int("n"), 0)
        // The connection is usable afterwards and commits normally.
        _ = try db.withTransaction { try $0.query("INSERT INTO \(table) (id, note) VALUES ($1, $2)", [2, "kept"]) }
        XCTAssertEqual(try db.query("SELECT note FROM \(table)").first?.string("note"), "kept")
    }

    func testAPipelineOfAThousandStatementsRunsInOrder() throws {
        let statements = (0..<1000).map {
            PipelineStatement("INSERT INTO \(table) (id, note) VALUES ($1, $2) RETURNING id", [$0, "n\($0)"])
        }
        let results = try db.withTransaction { try $0.send(statements) }
        XCTAssertEqual(results.count, 1000)
        XCTAssertEqual(try results.map { try $0.first!.int("id") }, (0..<1000).map(Int64.init))
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM \(table)").first?.int("n"), 1000)
    }

    func testAFailingStatementInAPipelineThrowsItsErrorAndTheTransactionKeepsNothing() throws {
        let statements = [
            PipelineStatement("INSERT INTO \(table) (id) VALUES (1)"),
            PipelineStatement("INSERT INTO \(table) (id) VALUES (1)"),
            PipelineStatement("INSERT INTO \(table) (id) VALUES (2)"),
        ]
        XCTAssertThrowsError(try db.withTransaction { try $0.send(statements) }) {
            XCTAssertEqual(($0 as? PostgresError)?.kind, .uniqueViolation)
        }
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM \(table)").first?.int("n"), 0)
    }

    func testUniqueViolationIsClassifiedAndNotRetriable() throws {
        try db.query("INSERT INTO \(table) (id) VALUES (7)")
        XCTAssertThrowsError(try db.query("INSERT INTO \(table) (id) VALUES (7)")) { error in
            let pg = error as? PostgresError
            XCTAssertEqual(pg?.sqlState, "23505")
            XCTAssertEqual(pg?.kind, .uniqueViolation)
            XCTAssertEqual(pg?.constraint, "\(table)_pkey")
            XCTAssertEqual(pg?.isRetriable, false)
        }
    }

    func testSerializationFailureIsClassifiedRetriable() throws {
        let other = try PostgresConnection(url: try TestEnvironment.databaseURL)
        try db.query("INSERT INTO \(table) (id, note) VALUES (1, 'a'), (2, 'b')")
        // Write skew: each transaction reads what the other writes.
        try db.query("BEGIN ISOLATION LEVEL SERIALIZABLE")
        try other.query("BEGIN ISOLATION LEVEL SERIALIZABLE")
        try db.query("SELECT note FROM \(table) WHERE id = 1")
        try other.query("SELECT note FROM \(table) WHERE id = 2")
        try db.query("UPDATE \(table) SET note = 'x' WHERE id = 2")
        try other.query("UPDATE \(table) SET note = 'y' WHERE id = 1")
        try db.query("COMMIT")
        XCTAssertThrowsError(try other.query("COMMIT")) { error in
            XCTAssertEqual((error as? PostgresError)?.sqlState, "40001")
            XCTAssertEqual((error as? PostgresError)?.kind, .serializationFailure)
            XCTAssertEqual((error as? PostgresError)?.isRetriable, true)
        }
    }

    func testATerminatedBackendIsReportedLostThenTheConnectionReconnects() throws {
        let killer = try PostgresConnection(url: try TestEnvironment.databaseURL)
        let oldPID = db.backendPID
        try killer.query("SELECT pg_terminate_backend($1)", [oldPID])
        XCTAssertThrowsError(try db.query("SELECT 1")) { error in
            XCTAssertEqual((error as? PostgresError)?.kind, .connectionLost, "\(error)")
            XCTAssertEqual((error as? PostgresError)?.isRetriable, true)
        }
        XCTAssertEqual(try db.query("SELECT 1 AS one").first?.int("one"), 1)
        XCTAssertNotEqual(db.backendPID, oldPID)
    }

    /// The same through a pipeline and a transaction, which the batch workers use: a terminated
    /// session is a lost connection (retried), never a client error (which stops the member).
    func testATerminatedBackendIsReportedLostThroughPipelinesToo() throws {
        let killer = try PostgresConnection(url: try TestEnvironment.databaseURL)
        for round in 0..<3 {
            try killer.query("SELECT pg_terminate_backend($1)", [db.backendPID])
            XCTAssertThrowsError(try db.withTransaction { tx in
                _ = try tx.send([PipelineStatement("SELECT $1::int AS n", [round]), PipelineStatement("SELECT 2 AS two")])
            }) { error in
                XCTAssertEqual((error as? PostgresError)?.kind, .connectionLost, "round \(round): \(error)")
            }
            XCTAssertEqual(try db.query("SELECT 1 AS one").first?.int("one"), 1)
        }
    }

    func testTheConnectionSurvivesAServerRestart() throws {
        let oldPID = db.backendPID
        XCTAssertEqual(try runScript("scripts/services.sh restart-postgres"), 0)
        // The first use may find the old socket dead; retrying once is what callers do.
        let answer = try (try? db.query("SELECT 2 AS two")) ?? db.query("SELECT 2 AS two")
        XCTAssertEqual(try answer.first?.int("two"), 2)
        XCTAssertNotEqual(db.backendPID, oldPID, "still on the pre-restart backend: the server did not restart")
    }

    func testABadURLFailsWithAConnectionError() {
        XCTAssertThrowsError(try PostgresConnection(url: "postgres://nobody@127.0.0.1:1/none?connect_timeout=2")) { error in
            XCTAssertEqual((error as? PostgresError)?.kind, .connectionLost)
        }
    }

    /// PostgreSQL text cannot hold NUL: a parameter with one is refused with an error (libpq
    /// would otherwise cut the string at it), and the connection stays usable.
    func testATextParameterWithANulIsRefusedNotCut() throws {
        XCTAssertThrowsError(try db.query("SELECT $1::text AS t", ["before\u{0}after"])) { error in
            XCTAssertEqual((error as? PostgresError)?.kind, .invalidInput, "\(error)")
        }
        XCTAssertEqual(try db.query("SELECT 'ok'::text AS t").first?.string("t"), "ok")
    }

    /// A pipeline that ran to its end leaves the session as it was: the reset after an
    /// abandoned pipeline must not fire after a good one (a new backend per batch).
    func testPipelinesAndTransactionsKeepTheirSession() throws {
        let pid = db.backendPID
        for n in 0..<3 {
            _ = try db.pipeline([PipelineStatement("SELECT $1::int AS n", [n])])
            try db.withTransaction { tx in _ = try tx.send([PipelineStatement("SELECT 1 AS one")]); try tx.commit() }
            _ = try db.query("SELECT 1 AS one")
        }
        XCTAssertEqual(db.backendPID, pid, "the session was reset")
    }
}

final class PostgresValueTests: XCTestCase {
    func testTimestampsFormatAndParseAtMicrosecondPrecision() throws {
        let date = Date(timeIntervalSince1970: 1_795_000_000.654321)
        let text = PostgresTimestamp.format(date)
        XCTAssertEqual(text, "2026-11-18 11:06:40.654321+00")
        XCTAssertEqual(try XCTUnwrap(PostgresTimestamp.parse(text)).timeIntervalSince1970, date.timeIntervalSince1970, accuracy: 1e-6)
    }

    func testParsesOffsetsAndMissingFractions() throws {
        XCTAssertEqual(PostgresTimestamp.parse("1970-01-01 01:00:00+01")?.timeIntervalSince1970, 0)
        XCTAssertEqual(PostgresTimestamp.parse("1970-01-01 00:00:00-05:30")?.timeIntervalSince1970, 19_800)
        XCTAssertNil(PostgresTimestamp.parse("yesterday"))
    }

    func testClassifiesSQLStates() {
        XCTAssertEqual(PostgresError.classify("40001"), .serializationFailure)
        XCTAssertEqual(PostgresError.classify("40P01"), .deadlock)
        XCTAssertEqual(PostgresError.classify("08006"), .connectionLost)
        XCTAssertEqual(PostgresError.classify("57P01"), .connectionLost)
        XCTAssertEqual(PostgresError.classify("23505"), .uniqueViolation)
        XCTAssertEqual(PostgresError.classify("22P02"), .invalidInput)
        XCTAssertEqual(PostgresError.classify("42P01"), .other)
        XCTAssertEqual(PostgresError.classify(nil), .connectionLost)
    }


    /// A database that stops answering must not hang a worker for the kernel's TCP timeouts:
    /// bounded connect and keepalive settings apply unless the URL sets its own.
    func testTimeoutDefaultsApplyUnlessTheURLSetsThem() throws {
        let url = try TestEnvironment.databaseURL
        let db = try PostgresConnection(url: url)
        for (keyword, value) in PostgresConnection.timeoutDefaults { XCTAssertEqual(db.setting(keyword), value, keyword) }
        let own = try PostgresConnection(url: url + (url.contains("?") ? "&" : "?") + "connect_timeout=3&keepalives_idle=7")
        XCTAssertEqual(own.setting("connect_timeout"), "3")
        XCTAssertEqual(own.setting("keepalives_idle"), "7")
        XCTAssertEqual(own.setting("tcp_user_timeout"), "60000")
    }
}
