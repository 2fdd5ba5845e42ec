import XCTest
import HTTP

final class ServerLifecycleTests: XCTestCase {
    func testStopReturnsPromptlyAndClosesTheListenerAndConnections() throws {
        let server = try HTTPServer(listen: "127.0.0.1:0") { metricsHandler($0) }
        server.start()
        let client = try RawClient(port: server.port)
        try client.send(getMetrics)
        XCTAssertEqual(try client.readResponse().status, 200)
        let started = ContinuousClock.now
        server.stop()
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(2))
        XCTAssertNotNil(client.waitForClose(), "open connections are closed")
        XCTAssertTrue(try connectionRefused(port: server.port))
    }

    func testStopWithoutStartReleasesThePort() throws {
        let server = try HTTPServer(listen: "127.0.0.1:0") { metricsHandler($0) }
        server.stop()
        XCTAssertTrue(try connectionRefused(port: server.port))
        server.stop()  // a second stop is harmless
    }

    func testAPortInUseFailsWithTheAddressInTheMessage() throws {
        let first = try startServer()
        XCTAssertThrowsError(try HTTPServer(listen: "127.0.0.1:\(first.port)") { metricsHandler($0) }) { error in
            XCTAssertEqual(String(describing: error), "cannot listen on 127.0.0.1:\(first.port): bind: Address already in use")
        }
    }

    func testABadAddressFailsWithTheParsersMessage() {
        XCTAssertThrowsError(try HTTPServer(listen: "127.0.0.1") { metricsHandler($0) }) { error in
            XCTAssertEqual(error as? HTTPServerError, .invalidAddress(.missingPort("127.0.0.1")))
        }
    }

    func testTheServerThreadIsNamedForTheKernel() throws {
        _ = try startServer()
        let deadline = ContinuousClock.now + .seconds(5)
        while try !threadNames().contains("cascade-http") && ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
        XCTAssertTrue(try threadNames().contains("cascade-http"))
    }

    private func threadNames() throws -> [String] {
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")
        // A thread may end between the listing and the read; it is simply not counted.
        return tasks.compactMap { try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8) }
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    }
}
