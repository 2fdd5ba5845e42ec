import XCTest
import HTTP

/// Hostile and slow clients cost their own slot, never anyone else's answer.
final class ServerLimitTests: XCTestCase {
    func testSlowlorisGets408AndIsClosedAfterTheReadTimeout() throws {
        let server = try startServer(limits: HTTPServer.Limits(readTimeout: .milliseconds(300)))
        let client = try RawClient(port: server.port)
        let started = ContinuousClock.now
        try client.send("GET /metrics HTTP/1.1\r\nHost: te")
        XCTAssertEqual(try client.readResponse().status, 408)
        XCTAssertNotNil(client.waitForClose())
        let elapsed = ContinuousClock.now - started
        XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(250), "the answer came from the timeout, not the bytes")
        XCTAssertLessThan(elapsed, .seconds(3))
    }

    func testANormalClientIsAnsweredPromptlyWhileSlowAndIdleClientsHoldSlots() throws {
        let server = try startServer(limits: HTTPServer.Limits(maxConnections: 8, readTimeout: .seconds(20)))
        let slow = try (0..<3).map { _ in try RawClient(port: server.port) }
        for client in slow { try client.send("GET /metrics HTTP/1.1\r\nHo") }
        let idle = try (0..<3).map { _ in try RawClient(port: server.port) }
        let normal = try RawClient(port: server.port, timeout: .seconds(3))
        try normal.send(getMetrics)
        XCTAssertEqual(try normal.readResponse().status, 200, "answered long before any slow client times out")
        withExtendedLifetime((slow, idle)) {}
    }

    func testAtTheCapANewcomerReplacesTheIdleConnectionNearestItsTimeout() throws {
        let server = try startServer(limits: HTTPServer.Limits(maxConnections: 4, readTimeout: .seconds(20)))
        let slow = try (0..<2).map { _ in try RawClient(port: server.port) }
        for client in slow { try client.send("GET /metrics HTTP/1.1\r\nHo") }
        let idle = try (0..<2).map { _ in try RawClient(port: server.port) }
        for client in idle {
            try client.send(getMetrics)
            XCTAssertEqual(try client.readResponse().status, 200)
            // Apart in time, so that their idle deadlines have a known order: answered in the same
            // turn of the server's loop, the two were once tied and the younger one was closed.
            Thread.sleep(forTimeInterval: 0.05)
        }
        let newcomer = try RawClient(port: server.port, timeout: .seconds(3))
        try newcomer.send(getMetrics)
        XCTAssertEqual(try newcomer.readResponse().status, 200)
        idle[0].setTimeout(.seconds(3))
        XCTAssertNotNil(idle[0].waitForClose(), "the oldest idle connection made room")
        try idle[1].send(getMetrics)
        XCTAssertEqual(try idle[1].readResponse().status, 200, "the younger idle connection still serves")
    }

    func testAtTheCapWithNoIdleConnectionTheOldestUnfinishedRequestMakesRoom() throws {
        let server = try startServer(limits: HTTPServer.Limits(maxConnections: 2, readTimeout: .seconds(20)))
        let holders = try (0..<2).map { _ in try RawClient(port: server.port) }
        for client in holders {
            try client.send("GET /metrics HTTP/1.1\r\nHo")
            // Time for the server to accept it, so the two have a known age order.
            Thread.sleep(forTimeInterval: 0.05)
        }
        let newcomer = try RawClient(port: server.port, timeout: .seconds(3))
        try newcomer.send(getMetrics)
        XCTAssertEqual(try newcomer.readResponse().status, 200, "answered long before the read timeout frees a slot")
        holders[0].setTimeout(.seconds(3))
        XCTAssertEqual(holders[0].waitForClose(), 0, "the oldest unfinished request was closed without an answer")
        try holders[1].send("st: test\r\n\r\n")
        XCTAssertEqual(try holders[1].readResponse().status, 200, "the younger one completes its request")
    }

    func testAtTheCapALongSilentConnectionGoesBeforeAHalfSentRequest() throws {
        let server = try startServer(limits: HTTPServer.Limits(maxConnections: 2, readTimeout: .seconds(20)))
        let silent = try RawClient(port: server.port)
        let halfSent = try RawClient(port: server.port)
        try halfSent.send("GET /metrics HTTP/1.1\r\nHo")
        Thread.sleep(forTimeInterval: 0.3)  // past the grace a newcomer has to speak
        let newcomer = try RawClient(port: server.port, timeout: .seconds(3))
        try newcomer.send(getMetrics)
        XCTAssertEqual(try newcomer.readResponse().status, 200)
        silent.setTimeout(.seconds(3))
        XCTAssertEqual(silent.waitForClose(), 0, "the silent connection made room")
        try halfSent.send("st: test\r\n\r\n")
        XCTAssertEqual(try halfSent.readResponse().status, 200, "the half-sent request survives")
    }

    func testWhenEverySlotIsSendingNewcomersWaitForTheWriteTimeout() throws {
        let hugeBody = [UInt8](repeating: UInt8(ascii: "x"), count: 64 << 20)
        let limits = HTTPServer.Limits(maxConnections: 2, writeTimeout: .milliseconds(800))
        let server = try startServer(limits: limits) { request in
            request.path == "/huge" ? HTTPResponse(status: .ok, body: hugeBody) : metricsHandler(request)
        }
        let started = ContinuousClock.now
        let stuck = try (0..<2).map { _ in try RawClient(port: server.port) }
        for client in stuck { try client.send("GET /huge HTTP/1.1\r\nHost: test\r\n\r\n") }
        Thread.sleep(forTimeInterval: 0.1)
        let newcomer = try RawClient(port: server.port, timeout: .seconds(5))
        try newcomer.send(getMetrics)
        XCTAssertEqual(try newcomer.readResponse().status, 200)
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .milliseconds(700), "served only once a write timed out")
        withExtendedLifetime(stuck) {}
    }

    func testAClientThatNeverReadsIsDroppedAfterTheWriteTimeoutWhileOthersAreServed() throws {
        let hugeBody = [UInt8](repeating: UInt8(ascii: "x"), count: 64 << 20)
        let server = try startServer(limits: HTTPServer.Limits(writeTimeout: .milliseconds(500))) { request in
            request.path == "/huge" ? HTTPResponse(status: .ok, body: hugeBody) : metricsHandler(request)
        }
        let stuck = try RawClient(port: server.port)
        try stuck.send("GET /huge HTTP/1.1\r\nHost: test\r\n\r\n")
        let other = try RawClient(port: server.port, timeout: .seconds(3))
        try other.send(getMetrics)
        XCTAssertEqual(try other.readResponse().status, 200, "served while the stuck client's response is pending")
        Thread.sleep(forTimeInterval: 1.0)
        let received = stuck.waitForClose()
        XCTAssertNotNil(received, "the stuck client was dropped")
        XCTAssertLessThan(received ?? .max, hugeBody.count, "and did not get the whole body")
        try other.send(getMetrics)
        XCTAssertEqual(try other.readResponse().status, 200)
    }
}
