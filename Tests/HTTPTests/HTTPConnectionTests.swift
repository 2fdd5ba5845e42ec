import XCTest
@testable import HTTP

/// The connection machine as transcripts: events in, observable state out, no sockets.
final class HTTPConnectionTests: XCTestCase {
    private let start = ContinuousClock.now
    private var handled: [String] = []

    private func at(_ milliseconds: Int) -> ContinuousClock.Instant { start + .milliseconds(milliseconds) }

    private func makeConnection() -> HTTPConnection {
        let policy = ConnectionPolicy(readTimeout: .seconds(1), idleTimeout: .seconds(10), writeTimeout: .seconds(2))
        return HTTPConnection(policy: policy, at: start)
    }

    private func respond(_ request: HTTPRequest) -> HTTPResponse {
        handled.append(request.target)
        return HTTPResponse(status: .ok, text: "served \(request.target)")
    }

    private func receive(_ text: String, _ connection: inout HTTPConnection, at time: Int) {
        connection.received(bytes(text)[...], at: at(time), respond: respond)
    }

    private func sendAll(_ connection: inout HTTPConnection, at time: Int) -> String {
        let output = String(decoding: connection.pendingOutput, as: UTF8.self)
        connection.sent(connection.pendingOutput.count, at: at(time), respond: respond)
        return output
    }

    func testARequestIsAnsweredThenTheConnectionWaitsIdle() {
        var connection = makeConnection()
        receive("GET /a HTTP/1.1\r\nHost: h\r\n\r\n", &connection, at: 10)
        XCTAssertEqual(connection.phase, .sendingResponse)
        XCTAssertFalse(connection.wantsToRead, "nothing is read while a response is pending")
        XCTAssertTrue(sendAll(&connection, at: 20).hasSuffix("\r\n\r\nserved /a"))
        XCTAssertEqual(connection.phase, .awaitingRequest)
        XCTAssertEqual(connection.deadline, at(20) + .seconds(10), "idle timeout runs from the end of the response")
    }

    func testPipelinedRequestsAreAnsweredInOrderOneAtATime() {
        var connection = makeConnection()
        receive("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n", &connection, at: 0)
        XCTAssertEqual(handled, ["/1"], "the second waits until the first response is out")
        XCTAssertTrue(sendAll(&connection, at: 1).hasSuffix("served /1"))
        XCTAssertEqual(handled, ["/1", "/2"])
        XCTAssertTrue(sendAll(&connection, at: 2).hasSuffix("served /2"))
        XCTAssertEqual(connection.phase, .awaitingRequest)
    }

    func testAPartialResponseWriteKeepsTheRestPending() {
        var connection = makeConnection()
        receive("GET /a HTTP/1.1\r\nHost: h\r\n\r\n", &connection, at: 0)
        let total = connection.pendingOutput.count
        connection.sent(10, at: at(1), respond: respond)
        XCTAssertEqual(connection.pendingOutput.count, total - 10)
        XCTAssertEqual(connection.phase, .sendingResponse)
    }

    func testAParseErrorIsAnsweredThenTheConnectionDrainsAndCloses() {
        var connection = makeConnection()
        receive("GET / HTTP/2.0\r\n", &connection, at: 0)
        let output = sendAll(&connection, at: 1)
        XCTAssertTrue(output.hasPrefix("HTTP/1.1 505 "), output)
        XCTAssertTrue(output.contains("Connection: close\r\n"), output)
        XCTAssertEqual(connection.phase, .draining)
        XCTAssertTrue(connection.wantsToRead)
        connection.inputDidEnd()
        XCTAssertEqual(connection.phase, .closed)
        XCTAssertEqual(handled, [])
    }

    func testADisallowedMethodGets405WithAllowAndTheConnectionStaysUp() {
        var connection = makeConnection()
        receive("DELETE /a HTTP/1.1\r\nHost: h\r\n\r\n", &connection, at: 0)
        let output = sendAll(&connection, at: 1)
        XCTAssertTrue(output.hasPrefix("HTTP/1.1 405 Method Not Allowed\r\n"), output)
        XCTAssertTrue(output.contains("\r\nAllow: GET\r\n"), output)
        XCTAssertEqual(handled, [], "the handler never sees a disallowed method")
        XCTAssertEqual(connection.phase, .awaitingRequest)
    }

    func testASlowRequestGets408WhenTheReadTimeoutPasses() {
        var connection = makeConnection()
        receive("GET /a HTTP/1.1\r\nHo", &connection, at: 100)
        connection.timeElapsed(at: at(999))
        XCTAssertEqual(connection.phase, .readingRequest, "first request is timed from accept, not before")
        connection.timeElapsed(at: at(1000))
        let output = sendAll(&connection, at: 1001)
        XCTAssertTrue(output.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), output)
        XCTAssertEqual(connection.phase, .draining)
    }

    func testALaterRequestIsTimedFromItsFirstByte() {
        var connection = makeConnection()
        receive("GET /a HTTP/1.1\r\nHost: h\r\n\r\n", &connection, at: 0)
        _ = sendAll(&connection, at: 0)
        receive("GET /b HTTP/1.1\r\n", &connection, at: 5000)
        XCTAssertEqual(connection.deadline, at(6000))
    }

    func testASilentNewConnectionIsClosedWithoutAResponse() {
        var connection = makeConnection()
        connection.timeElapsed(at: at(1000))
        XCTAssertEqual(connection.phase, .closed)
        XCTAssertTrue(connection.pendingOutput.isEmpty)
    }

    func testAnIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout() {
        var connection = makeConnection()
        receive("GET /a HTTP/1.1\r\nHost: h\r\n\r\n", &connection, at: 0)
        _ = sendAll(&connection, at: 0)
        connection.timeElapsed(at: at(9999))
        XCTAssertEqual(connection.phase, .awaitingRequest)
        connection.timeElapsed(at: at(10000))
        XCTAssertEqual(connection.phase, .closed)
    }

    func testAClientThatStopsReadingIsDroppedAfterTheWriteTimeout() {
        var connection = makeConnection()
        receive("GET /a HTTP/1.1\r\nHost: h\r\n\r\n", &connection, at: 0)
        connection.sent(1, at: at(1500), respond: respond)
        connection.timeElapsed(at: at(2000))
        XCTAssertEqual(connection.phase, .closed, "progress does not extend the deadline of a response")
    }

    func testConnectionCloseFromTheClientClosesAfterTheResponse() {
        var connection = makeConnection()
        receive("GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n", &connection, at: 0)
        XCTAssertTrue(sendAll(&connection, at: 1).contains("Connection: close\r\n"))
        XCTAssertEqual(connection.phase, .draining)
        XCTAssertEqual(handled, ["/a"], "nothing after Connection: close is served")
    }

    func testInputEndingMidResponseStillDeliversTheResponseThenCloses() {
        var connection = makeConnection()
        receive("GET /a HTTP/1.1\r\nHost: h\r\n\r\n", &connection, at: 0)
        connection.inputDidEnd()
        XCTAssertEqual(connection.phase, .sendingResponse)
        _ = sendAll(&connection, at: 1)
        XCTAssertEqual(connection.phase, .closed)
    }
}
