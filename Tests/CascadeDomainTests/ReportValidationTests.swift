import CascadeDomain
import XCTest

final class ReportValidationTests: XCTestCase {
    private let valid = #"{"model_id":"A","model_version":"v1","job_id":"job-1","status":"success","output":{"uri":"s3://x"}}"#

    private func rejection(_ r: RawReport, limits: ReportLimits = .defaults, file: StaticString = #filePath, line: UInt = #line) -> ReportRejection? {
        switch ReportValidation.validate(r, limits: limits) {
        case .success(let report): XCTFail("accepted: \(report)", file: file, line: line); return nil
        case .failure(let rejection): return rejection
        }
    }

    private func accepted(_ r: RawReport, file: StaticString = #filePath, line: UInt = #line) -> CompletionReport? {
        switch ReportValidation.validate(r) {
        case .success(let report): return report
        case .failure(let rejection): XCTFail("rejected: \(rejection.message)", file: file, line: line); return nil
        }
    }

    func testAValidReportKeepsEveryFieldAndTheHeaders() throws {
        let r = try XCTUnwrap(accepted(raw(valid, key: "job-1", headers: [("request-id", "r1"), ("Authorization", "Bearer t")])))
        XCTAssertEqual(r.modelId, "A")
        XCTAssertEqual(r.modelVersion, "v1")
        XCTAssertEqual(r.jobId, "job-1")
        XCTAssertEqual(r.status, .success)
        XCTAssertEqual(r.output, ["uri": "s3://x"])
        XCTAssertNil(r.error)
        XCTAssertEqual(r.requestId, "r1")
        XCTAssertEqual(r.authorization, "Bearer t")
        XCTAssertEqual(r.source, source)
    }

    func testNotJSONIsRejectedAndAnsweredUnderTheKey() {
        let r = rejection(raw("{not json", key: "job-9"))
        XCTAssertTrue(r?.message.hasPrefix("report is not valid JSON") ?? false, r?.message ?? "")
        XCTAssertEqual(r?.jobId, "job-9")
    }

    func testNotJSONWithoutAKeyHasNoJobId() {
        XCTAssertNil(rejection(raw("garbage"))?.jobId)
    }

    func testJSONThatIsNotAnObjectIsRejected() {
        for value in ["[1,2]", "\"job\"", "42", "null", "true"] {
            XCTAssertTrue(rejection(raw(value))?.message.contains("must be a JSON object") ?? false, value)
        }
    }

    func testEachIdFieldMustBePresent() {
        for field in ["model_id", "model_version", "job_id"] {
            XCTAssertEqual(rejection(raw(reportJSON(field, nil)))?.message, "\(field) is missing")
        }
    }

    /// A report's JSON with one field's raw JSON replaced (nil removes it).
    private func reportJSON(_ field: String, _ rawValue: String?) -> String {
        let fields = [("model_id", "\"A\""), ("model_version", "\"v1\""), ("job_id", "\"j\""), ("status", "\"success\"")]
        let members = fields.compactMap { name, value -> String? in
            let v = name == field ? rawValue : value
            return v.map { "\"\(name)\":\($0)" }
        }
        return "{" + members.joined(separator: ",") + "}"
    }

    func testEachIdFieldMustBeANonEmptyString() {
        for field in ["model_id", "model_version", "job_id"] {
            for (value, expected) in [("\"\"", "\(field) is empty"), ("7", "\(field) must be a string, got a number"),
                                      ("null", "\(field) must be a string, got null"), ("{}", "\(field) must be a string, got an object"),
                                      ("[\"a\"]", "\(field) must be a string, got an array"), ("true", "\(field) must be a string, got a boolean")] {
                XCTAssertEqual(rejection(raw(reportJSON(field, value)))?.message, expected, "\(field)=\(value)")
            }
        }
    }

    func testIdsLongerThan255CharactersAreRejectedAnd255IsAccepted() {
        let ok = String(repeating: "é", count: 255)
        XCTAssertNotNil(accepted(raw(reportJSON("model_id", "\"\(ok)\""))))
        let long = String(repeating: "x", count: 256)
        for field in ["model_id", "model_version", "job_id"] {
            XCTAssertEqual(rejection(raw(reportJSON(field, "\"\(long)\"")))?.message, "\(field) is 256 characters, over the limit of 255")
        }
    }

    func testIdsWithControlCharactersAreRejected() {
        for control in ["\\n", "\\u0000", "\\t", "\\u007f", "\\u009b"] {
            let json = #"{"model_id":"A","model_version":"v1","job_id":"j\#(control)x","status":"success"}"#
            XCTAssertEqual(rejection(raw(json))?.message, "job_id contains control characters", control)
        }
    }

    func testStatusMustBeSuccessOrFailure() {
        let base = #"{"model_id":"A","model_version":"v1","job_id":"j""#
        XCTAssertEqual(rejection(raw(base + "}"))?.message, "status is missing; it must be \"success\" or \"failure\"")
        XCTAssertEqual(rejection(raw(base + #","status":"done"}"#))?.message, "status must be \"success\" or \"failure\", got \"done\"")
        XCTAssertEqual(rejection(raw(base + #","status":"SUCCESS"}"#))?.message, "status must be \"success\" or \"failure\", got \"SUCCESS\"")
        XCTAssertEqual(rejection(raw(base + #","status":1}"#))?.message, "status must be a string, got a number")
        XCTAssertEqual(accepted(raw(base + #","status":"failure"}"#))?.status, .failure)
    }

    func testOutputAndErrorMustBeObjectsWhenPresent() {
        let base = #"{"model_id":"A","model_version":"v1","job_id":"j","status":"failure""#
        for field in ["output", "error"] {
            XCTAssertEqual(rejection(raw(base + #","\#(field)":[1]}"#))?.message, "\(field) must be an object when present, got an array")
            XCTAssertEqual(rejection(raw(base + #","\#(field)":"oops"}"#))?.message, "\(field) must be an object when present, got a string")
            XCTAssertEqual(rejection(raw(base + #","\#(field)":3}"#))?.message, "\(field) must be an object when present, got a number")
        }
        // Both bad: output is named, whichever comes first in the document; the rejection keeps the ids.
        let both = rejection(raw(base + #","error":7,"output":true}"#))
        XCTAssertEqual(both?.message, "output must be an object when present, got a boolean")
        XCTAssertEqual(both?.jobId, "j")
        XCTAssertEqual(both?.modelVersion, "v1")
    }

    func testNullOutputOrErrorMeansAbsent() throws {
        let r = try XCTUnwrap(accepted(raw(#"{"model_id":"A","model_version":"v1","job_id":"j","status":"failure","output":null,"error":null}"#)))
        XCTAssertNil(r.output)
        XCTAssertNil(r.error)
    }

    func testAReportOverTheSizeLimitIsRejected() {
        let r = rejection(raw(valid, key: "job-1"), limits: ReportLimits(maximumBytes: 20, maximumIdLength: 255))
        XCTAssertEqual(r?.message, "report is \(valid.utf8.count) bytes, over the 20-byte limit")
        XCTAssertEqual(r?.jobId, "job-1")
    }

    /// Producers may key by anything (a request id, a model id); the value's job_id rules.
    func testAKeyThatIsNotTheJobIdIsAcceptedAndNoticed() throws {
        for key in ["job-2", "", "model-A"] {
            let message = raw(valid, key: key)
            XCTAssertEqual(accepted(message)?.jobId, "job-1", key)
            XCTAssertTrue(ReportValidation.keyDiffers(message, from: "job-1"), key)
        }
        XCTAssertFalse(ReportValidation.keyDiffers(raw(valid, key: "job-1"), from: "job-1"))
        XCTAssertFalse(ReportValidation.keyDiffers(raw(valid), from: "job-1"), "no key is not a mismatch")
    }

    func testRequireKeyMatchRejectsAKeyThatIsNotTheJobId() {
        let strict = ReportLimits(maximumBytes: 1 << 20, maximumIdLength: 255, requireKeyMatch: true)
        // A canonically equivalent spelling is another key: Kafka partitions by the bytes.
        let composed = #"{"model_id":"A","model_version":"v1","job_id":"\#u{E9}","status":"success"}"#
        XCTAssertEqual(rejection(raw(composed, key: "e\u{301}"), limits: strict)?.kind, .keyMismatch)
        if case .failure(let r) = ReportValidation.validate(raw(composed, key: "\u{E9}"), limits: strict) { XCTFail(r.message) }
        for key in ["job-2", ""] {
            let r = rejection(raw(valid, key: key), limits: strict)
            XCTAssertEqual(r?.message, "message key must equal job_id \"job-1\"", key)
            XCTAssertEqual(r?.jobId, "job-1")
        }
        if case .failure(let r) = ReportValidation.validate(raw(valid, key: "job-1"), limits: strict) { XCTFail(r.message) }
        if case .failure(let r) = ReportValidation.validate(raw(valid), limits: strict) { XCTFail("no key: \(r.message)") }
    }

    /// The class is what the dead-letter metric counts by; each rule lands in one.
    func testEachRejectionHasItsClass() {
        let strict = ReportLimits(maximumBytes: 1 << 20, maximumIdLength: 255, requireKeyMatch: true)
        let cases: [(RawReport, ReportLimits, ReportRejection.Kind)] = [
            (RawReport(key: nil, value: nil, headers: [], source: source), .defaults, .malformed),
            (raw("{oops"), .defaults, .malformed),
            (raw("[1]"), .defaults, .malformed),
            (raw(valid), ReportLimits(maximumBytes: 20, maximumIdLength: 255), .tooLarge),
            (raw(#"{"model_id":"A","model_version":"v1","status":"success"}"#), .defaults, .invalidField),
            (raw(#"{"model_id":"A","model_version":"v1","job_id":"j","status":"done"}"#), .defaults, .invalidField),
            (raw(#"{"model_id":"A","model_version":"v1","job_id":"j","status":"success","output":7}"#), .defaults, .invalidField),
            (raw(valid, key: "job-2"), strict, .keyMismatch),
        ]
        for (report, limits, kind) in cases {
            XCTAssertEqual(rejection(report, limits: limits)?.kind, kind, String(decoding: report.value ?? [], as: UTF8.self))
        }
    }

    func testATombstoneIsRejectedAsSuch() {
        let r = rejection(RawReport(key: Array("job-1".utf8), value: nil, headers: [], source: source))
        XCTAssertEqual(r?.message, "report has a null value (a tombstone); a report is a JSON object")
        XCTAssertEqual(r?.jobId, "job-1", "answered under its key")
    }

    func testAQuotedStatusIsClipped() throws {
        let long = String(repeating: "s", count: 5000)
        let r = try XCTUnwrap(rejection(raw(#"{"model_id":"A","model_version":"v1","job_id":"j","status":"\#(long)"}"#)))
        XCTAssertLessThan(r.message.utf8.count, 150, r.message)
        XCTAssertTrue(r.message.hasPrefix("status must be \"success\" or \"failure\", got \"sss"), r.message)
    }

    func testARejectionKeepsTheIdsItCouldReadAndTheRequestId() {
        let r = rejection(raw(#"{"model_id":"A","model_version":"v1","job_id":"j","status":"nope"}"#, headers: [("request-id", "req-7")]))
        XCTAssertEqual(r?.jobId, "j")
        XCTAssertEqual(r?.modelId, "A")
        XCTAssertEqual(r?.modelVersion, "v1")
        XCTAssertEqual(r?.requestId, "req-7")
    }
}
