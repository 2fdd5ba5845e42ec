import CascadeDomain
import Foundation
import TestSupport
import XCTest

/// `cascade consume --auth jwt` end to end, with tokens minted by PyJWT: each case's result
/// record (code and sentence), the job untouched and nothing sent downstream for a 401 or 403,
/// each refusal counted by reason, and dead letters that never carry a token. Also: `consume`
/// refuses to start without a chosen `--auth`.
final class JWTPipelineTests: XCTestCase {
    private var f: PipelineFixture!
    private var directory: String!

    override func tearDown() {
        f?.close()
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
    }

    private func mint() throws -> [String: JSONValue] {
        directory = NSTemporaryDirectory() + TestEnvironment.unique("jwt-e2e")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        XCTAssertEqual(try runScript("python3 scripts/contracts/mint_tokens.py '\(directory!)' '\(JWTAuthorizerTests.issuer)'"), 0)
        let document = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/tokens.json"))))
        return Dictionary(uniqueKeysWithValues: (document.objectMembers ?? []).map { ($0.key, $0.value) })
    }

    func testEveryTokenCaseIsAnsweredAndRefusalsTouchNothing() throws {
        let tokens = try mint()
        f = try PipelineFixture()
        let source = try f.model("jwt-source"), target = try f.model("jwt-target")
        try f.subscribe(source, target)
        let consumer = try f.startConsumer(["--auth", "jwt", "--jwks", directory + "/jwks.json", "--issuer", JWTAuthorizerTests.issuer,
                                            "--client-ids", "fleet-a"])
        defer { consumer.signal(SIGTERM); consumer.wait() }

        var cases: [(name: String, job: Job, code: Int, token: String?)] = []
        for (name, spec) in tokens.sorted(by: { $0.key < $1.key }) where name != "signed_by_new_key" {
            guard case .number(let code)? = spec["code"] else { return XCTFail("\(name): no code") }
            let job = try f.startedJob(source)
            let authorization = spec["authorization"]?.stringValue
            let body = #"{"model_id":"\#(source)","model_version":"v1","job_id":"\#(job.id)","status":"success","output":{"uri":"s3://o"}}"#
            try f.send(key: job.id, value: body, authorization: authorization)
            cases.append((name, job, Int(code)!, authorization?.split(separator: " ").last.map(String.init)))
        }
        var refused: [String: Double] = [:]
        for (name, job, code, token) in cases {
            let result = f.results(for: job.id, timeout: 60).first
            XCTAssertEqual(result?["code"], .number(String(code)), "\(name): \(String(describing: result))")
            let message = result?["message"]?.stringValue ?? ""
            for segment in (token ?? "").split(separator: ".") where segment.count > 8 {
                XCTAssertFalse(message.contains(segment), "\(name) echoes its token: \(message)")
            }
            if code == 200 {
                XCTAssertEqual(try f.job(job.id)?.status, .success, name)
            } else {
                XCTAssertFalse(message.isEmpty, "\(name): a refusal says why")
                XCTAssertEqual(try f.job(job.id)?.status, .started, "\(name): a refused report changed the job")
                if let reason = tokens[name]?["reason"]?.stringValue { refused[reason, default: 0] += 1 }
            }
        }
        // Every success fired its subscription; no refusal did.
        XCTAssertTrue(eventually(timeout: 30) { cases.filter { $0.code == 200 }.allSatisfy { !f.requests(forSource: $0.job.id).isEmpty } })
        for (name, job, code, _) in cases where code != 200 {
            XCTAssertTrue(f.requests(forSource: job.id).isEmpty, "\(name): a refused report went downstream")
        }
        let scrape = try MemberEndpoints(consumer).scrape()
        for (reason, count) in refused {
            XCTAssertEqual(MemberEndpoints.sum("cascade_auth_rejections_total{reason=\"\(reason)\"}", in: scrape), count, reason)
        }
        XCTAssertEqual(MemberEndpoints.sum("cascade_auth_rejections_total", in: scrape), refused.values.reduce(0, +))
        for (name, _, _, token) in cases {
            guard let signature = token?.split(separator: ".").last, signature.count > 8 else { continue }
            XCTAssertFalse(consumer.log.contains(signature), "\(name): its token reached the log")
        }
    }

    /// A dead letter keeps the original headers, but a bearer token in them is replaced by its
    /// fingerprint: anyone who can read dead letters could otherwise use it.
    func testADeadLetterCarriesARedactedAuthorizationHeader() throws {
        let tokens = try mint()
        f = try PipelineFixture()
        // A small report limit, so the second report's dead letter is cut and its original parked.
        let consumer = try f.startConsumer(["--auth", "jwt", "--jwks", directory + "/jwks.json", "--issuer", JWTAuthorizerTests.issuer,
                                            "--max-report-bytes", "4096"])
        defer { consumer.signal(SIGTERM); consumer.wait() }
        let header = try XCTUnwrap(tokens["rs256_with_scope"]?["authorization"]?.stringValue)
        let token = String(header.dropFirst("Bearer ".count))
        try f.send(key: "not-json", value: "{not json", authorization: header)
        try f.send(key: "too-large", value: String(repeating: "x", count: 6000), authorization: header)
        XCTAssertTrue(eventually(timeout: 60) { f.reader.messages(f.topics.deadLetters).count == 2 })
        let letter = try XCTUnwrap(f.reader.messages(f.topics.deadLetters).first)
        let redacted = try XCTUnwrap(letter.header("authorization"))
        var hash = ""
        XCTAssertEqual(try runScript("printf %s '\(token)' | sha256sum | cut -c1-8 > '\(directory!)/hash'"), 0)
        hash = try String(contentsOfFile: directory + "/hash", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(redacted, "Bearer <redacted sha256:\(hash)>")
        let signature = String(token.split(separator: ".").last!)
        for received in f.reader.messages(f.topics.deadLetters) {
            for h in received.message.headers { XCTAssertFalse(h.stringValue?.contains(signature) ?? false, h.name) }
        }
        let ours = "position(convert_to($1, 'UTF8') IN message) > 0"
        XCTAssertEqual(try f.count("SELECT count(*) AS n FROM parked_messages WHERE \(ours)", [f.topics.deadLetters]), 1,
                       "the cut letter's original is parked")
        XCTAssertEqual(try f.count("SELECT count(*) AS n FROM parked_messages WHERE \(ours) AND position(convert_to($2, 'UTF8') IN message) > 0",
                                   [f.topics.deadLetters, signature]), 0, "a parked original carries the token")
    }

    /// Key rotation through a running consumer: a key added to the JWKS is used without a
    /// restart; SIGHUP re-reads it (and stops nothing); a withdrawn key's tokens become 401.
    func testKeyRotationNeedsNoRestart() throws {
        let tokens = try mint()
        f = try PipelineFixture()
        let model = try f.model("jwt-rotation")
        let jwks = directory + "/live-jwks.json"
        try FileManager.default.copyItem(atPath: directory + "/jwks.json", toPath: jwks)
        let consumer = try f.startConsumer(["--auth", "jwt", "--jwks", jwks, "--issuer", JWTAuthorizerTests.issuer])
        defer { consumer.signal(SIGTERM); consumer.wait() }
        func answer(_ name: String) throws -> JSONValue? {
            let job = try f.startedJob(model)
            let body = #"{"model_id":"\#(model)","model_version":"v1","job_id":"\#(job.id)","status":"success","output":{"k":1}}"#
            try f.send(key: job.id, value: body, authorization: tokens[name]?["authorization"]?.stringValue)
            return f.results(for: job.id, timeout: 60).first?["code"]
        }
        XCTAssertEqual(try answer("signed_by_new_key"), 401)
        XCTAssertEqual(try answer("rs256_with_scope"), 200)

        Thread.sleep(forTimeInterval: 1.1)
        try Data(contentsOf: URL(fileURLWithPath: directory + "/jwks-rotated.json")).write(to: URL(fileURLWithPath: jwks))
        consumer.signal(SIGHUP)
        XCTAssertTrue(eventually(timeout: 10) { consumer.log.contains("SIGHUP: the JWKS is re-read") }, consumer.log)
        XCTAssertEqual(try answer("signed_by_new_key"), 200, "a new key, no restart")
        XCTAssertEqual(try answer("rs256_with_scope"), 200, "now cached under the new key set")

        Thread.sleep(forTimeInterval: 1.1)
        try Data(contentsOf: URL(fileURLWithPath: directory + "/jwks-rotated-only.json")).write(to: URL(fileURLWithPath: jwks))
        Thread.sleep(forTimeInterval: 1.5)
        XCTAssertEqual(try answer("rs256_with_scope"), 401, "the withdrawn key's token, though cached")
        XCTAssertEqual(try answer("signed_by_new_key"), 200)
        XCTAssertNil(consumer.wait(timeout: 0.1), "SIGHUP stopped the consumer")
    }

    /// HS256, the development mode: accepted only with --hs256-secret-file (a trailing newline
    /// is not part of the secret), logged as development only; a short secret is refused.
    func testHS256IsAcceptedOnlyWithItsSecretFile() throws {
        let tokens = try mint()
        f = try PipelineFixture()
        let model = try f.model("jwt-hs256")
        let consumer = try f.startConsumer(["--auth", "jwt", "--jwks", directory + "/jwks.json", "--issuer", JWTAuthorizerTests.issuer,
                                            "--hs256-secret-file", directory + "/hs256.secret"])
        defer { consumer.signal(SIGTERM); consumer.wait() }
        let job = try f.startedJob(model)
        let body = #"{"model_id":"\#(model)","model_version":"v1","job_id":"\#(job.id)","status":"success","output":{"k":1}}"#
        try f.send(key: job.id, value: body, authorization: tokens["hs256_development"]?["authorization"]?.stringValue)
        XCTAssertEqual(f.results(for: job.id, timeout: 60).first?["code"], 200)
        XCTAssertTrue(consumer.log.contains("HS256 tokens accepted (--hs256-secret-file): for development only"), consumer.log)

        let short = directory + "/short.secret"
        try Data("too short\n".utf8).write(to: URL(fileURLWithPath: short))
        let refused = try ChildProcess(PipelineFixture.binary, ["consume", "--brokers", "127.0.0.1:1", "--auth", "jwt", "--issuer", "i",
                                                                "--hs256-secret-file", short], logPath: short + ".log")
        XCTAssertEqual(refused.wait(timeout: 30), 2, refused.log)
        XCTAssertTrue(refused.log.contains("the secret must be at least 32 bytes"), refused.log)
    }

    func testConsumeRefusesToStartUnlessTheAuthModeIsChosen() throws {
        let log = NSTemporaryDirectory() + "\(TestEnvironment.unique("noauth")).log"
        var environment = ProcessInfo.processInfo.environment
        environment["CASCADE_AUTH"] = nil
        let process = try ChildProcess(PipelineFixture.binary, ["consume", "--brokers", "127.0.0.1:1"], environment: environment, logPath: log)
        XCTAssertEqual(process.wait(timeout: 30), 2, process.log)
        XCTAssertTrue(process.log.contains("choose who may complete jobs: --auth jwt, --auth tokens or --auth none"), process.log)
        for (args, expected) in [(["--auth", "maybe"], "--auth must be jwt, tokens or none"),
                                 (["--auth", "jwt"], "--auth jwt needs --issuer"),
                                 (["--auth", "jwt", "--issuer", "i"], "--auth jwt needs --jwks FILE"),
                                 (["--auth", "none", "--jwks", "/x"], "--jwks is for --auth jwt, not --auth none"),
                                 (["--auth", "tokens"], "--auth tokens needs --auth-tokens FILE")] {
            let p = try ChildProcess(PipelineFixture.binary, ["consume", "--brokers", "127.0.0.1:1"] + args, environment: environment, logPath: log)
            XCTAssertEqual(p.wait(timeout: 30), 2, p.log)
            XCTAssertTrue(p.log.contains(expected), "\(args): \(p.log)")
        }
    }
}
