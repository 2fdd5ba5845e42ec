import Foundation
import XCTest
import HTTP

/// The real client the metrics endpoint will meet first.
final class CurlTests: XCTestCase {
    private let curl = "/usr/bin/curl"

    func testCurlGetsTheMetrics() throws {
        let server = try startServer()
        let (status, output) = try run(["-sS", "-D", "-", "http://127.0.0.1:\(server.port)/metrics"])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.hasPrefix("HTTP/1.1 200 OK\r\n"), output)
        XCTAssertTrue(output.hasSuffix("\r\n\r\nup 1\n"), output)
    }

    func testCurlPostGets405() throws {
        let server = try startServer()
        let (status, output) = try run(["-sS", "-X", "POST", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(server.port)/metrics"])
        XCTAssertEqual(status, 0, output)
        XCTAssertEqual(output, "405")
    }

    private func run(_ arguments: [String]) throws -> (Int32, String) {
        guard FileManager.default.isExecutableFile(atPath: curl) else { throw XCTSkip("\(curl) is not installed") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: curl)
        process.arguments = ["--max-time", "10"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}
