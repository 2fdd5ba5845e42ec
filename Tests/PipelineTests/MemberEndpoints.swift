import CascadeDomain
import Foundation
import TestSupport
import XCTest

/// A running member's HTTP endpoints, reached the way operators reach them: with `curl`, and
/// `/metrics` read by Prometheus' own parser (scripts/contracts/check_metrics.py).
struct MemberEndpoints {
    let port: Int
    private let scratch = NSTemporaryDirectory() + "endpoints-\(UUID().uuidString.prefix(8))"

    /// The port the member logged at start (`--http-listen 127.0.0.1:0` picks a free one).
    init(_ member: ChildProcess, timeout: TimeInterval = 30) throws {
        var found: Int?
        eventually(timeout: timeout) {
            found = member.log.split(separator: "\n").lazy.compactMap { line -> Int? in
                guard line.contains(#""msg":"starting""#), let json = try? JSONParser.parse(String(line)),
                      let http = json["http"]?.stringValue, let open = http.range(of: "(port "),
                      let close = http.range(of: ")", range: open.upperBound..<http.endIndex) else { return nil }
                return Int(http[open.upperBound..<close.lowerBound])
            }.first
            return found != nil
        }
        port = try XCTUnwrap(found, "no HTTP port in the member's start-up line: \(member.log)")
    }

    /// `curl` the path: the status code and the body.
    func get(_ path: String) throws -> (status: Int, body: String) {
        let body = scratch + ".body", code = scratch + ".code"
        let rc = try runScript("curl -sS --max-time 10 -o '\(body)' -w '%{http_code}' http://127.0.0.1:\(port)\(path) > '\(code)'")
        XCTAssertEqual(rc, 0, "curl failed on \(path)")
        let written = try String(contentsOfFile: code, encoding: .utf8)
        let status = try XCTUnwrap(Int(written), "curl wrote no status code for \(path): '\(written)'")
        return (status, try String(contentsOfFile: body, encoding: .utf8))
    }

    /// Polls `path` until it answers `status` or `timeout` passes; the last answer either way.
    func await(_ path: String, status: Int, timeout: TimeInterval) throws -> (reached: Bool, body: String) {
        var last: (status: Int, body: String) = (0, "")
        let reached = try eventually(timeout: timeout, interval: 0.5) {
            last = try get(path)
            return last.status == status
        }
        return (reached, last.body)
    }

    /// A scrape checked by prometheus_client: every documented metric present and typed.
    /// Returns the checker's summary (sums per family, lag).
    func metrics(file: StaticString = #filePath, line: UInt = #line) throws -> JSONValue {
        try check(try scrape(), file: file, line: line)
    }

    /// `/metrics` as curl gets it.
    func scrape(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let (status, body) = try get("/metrics")
        XCTAssertEqual(status, 200, "curl /metrics", file: file, line: line)
        return body
    }

    /// The sum of a metric's samples in a scrape, read plainly (for quick polling).
    static func sum(_ name: String, in scrape: String) -> Double {
        scrape.split(separator: "\n").filter { $0.hasPrefix(name + "{") || $0.hasPrefix(name + " ") }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
    }

    /// Checks a scrape with prometheus_client (scripts/contracts/check_metrics.py).
    func check(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> JSONValue {
        let scrape = scratch + ".metrics", summary = scratch + ".summary", problems = scratch + ".problems"
        try text.write(toFile: scrape, atomically: true, encoding: .utf8)
        let rc = try runScript("python3 scripts/contracts/check_metrics.py '\(scrape)' > '\(summary)' 2> '\(problems)'")
        XCTAssertEqual(rc, 0, "Prometheus' parser or the documented list disagrees: \((try? String(contentsOfFile: problems, encoding: .utf8)) ?? "")",
                       file: file, line: line)
        return try JSONParser.parse(try String(contentsOfFile: summary, encoding: .utf8))
    }
}

extension JSONValue {
    var number: Double? { if case .number(let text) = self { Double(text) } else { nil } }
}
