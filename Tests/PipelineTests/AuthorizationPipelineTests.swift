import CascadeDomain
import Foundation
import TestSupport
import XCTest

/// `cascade consume --auth tokens --auth-tokens FILE`: reports without a valid bearer token are answered 401,
/// tokens for other models 403, and neither touches the job.
final class AuthorizationPipelineTests: XCTestCase {
    func testBearerTokensGateCompletionAndRejectionsTouchNothing() throws {
        let f = try PipelineFixture()
        defer { f.close() }
        let model = try f.model("auth"), other = try f.model("auth-other")
        let tokens = NSTemporaryDirectory() + "\(f.id)-tokens.json"
        try Data(#"{"good-token": ["\#(model)"], "other-token": ["\#(other)"]}"#.utf8).write(to: URL(fileURLWithPath: tokens))
        let consumer = try f.startConsumer(["--auth", "tokens", "--auth-tokens", tokens])
        defer { consumer.signal(SIGTERM); consumer.wait() }

        let job = try f.startedJob(model)
        let body = #"{"model_id":"\#(model)","model_version":"v1","job_id":"\#(job.id)","status":"success","output":{"k":1}}"#
        try f.send(key: job.id, value: body)
        try f.send(key: job.id, value: body, authorization: "Bearer wrong")
        try f.send(key: job.id, value: body, authorization: "Bearer other-token")
        let rejected = f.results(for: job.id, count: 3, timeout: 40)
        XCTAssertEqual(rejected.map { $0["code"] }, [401, 401, 403])
        XCTAssertEqual(rejected.map { $0["success"] }, [false, false, false])
        XCTAssertEqual(try f.job(job.id)?.status, .started, "a rejected report changed the job")

        try f.send(key: job.id, value: body, authorization: "Bearer good-token")
        XCTAssertEqual(f.results(for: job.id, count: 4).last?["code"], 200)
        XCTAssertEqual(try f.job(job.id)?.status, .success)
    }

    /// The usage names `--auth-tokens FILE` whatever went wrong, so each test looks for the
    /// line that names this file and what is wrong with it.
    func testATokenFileThatIsNotATokenMapIsAConfigurationError() throws {
        let bad = NSTemporaryDirectory() + "cascade-bad-tokens-\(UUID().uuidString.prefix(6)).json"
        try Data("[1, 2]".utf8).write(to: URL(fileURLWithPath: bad))
        let process = try ChildProcess(PipelineFixture.binary, ["consume", "--brokers", "127.0.0.1:1", "--auth", "tokens", "--auth-tokens", bad],
                                       logPath: bad + ".log")
        XCTAssertEqual(process.wait(), 2)
        XCTAssertTrue(process.log.contains("cascade consume: --auth-tokens \(bad): "), process.log)
    }

    func testAnUnreadableTokenFileIsAConfigurationError() throws {
        let missing = NSTemporaryDirectory() + "cascade-no-tokens-\(UUID().uuidString.prefix(6)).json"
        let process = try ChildProcess(PipelineFixture.binary, ["consume", "--brokers", "127.0.0.1:1", "--auth", "tokens", "--auth-tokens", missing],
                                       logPath: missing + ".log")
        XCTAssertEqual(process.wait(), 2)
        XCTAssertTrue(process.log.contains("cascade consume: --auth-tokens: cannot read \(missing)"), process.log)
    }
}
