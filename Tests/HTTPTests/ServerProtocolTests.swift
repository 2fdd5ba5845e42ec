import XCTest
import HTTP

/// The server over real TCP: what a client sees for good and bad requests.
final class ServerProtocolTests: XCTestCase {
    func testGetIsAnsweredWithTheHandlersBody() throws {
        let server = try startServer()
        let client = try RawClient(port: server.port)
        try client.send(getMetrics)
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body, "up 1\n")
        XCTAssertEqual(response.headers["content-type"], "text/plain; version=0.0.4")
        XCTAssertNotNil(response.headers["date"])
    }

    func testUnknownPathGetsTheHandlers404() throws {
        let server = try startServer()
        let client = try RawClient(port: server.port)
        try client.send("GET /nope HTTP/1.1\r\nHost: test\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 404)
    }

    func testPostGets405WithAllow() throws {
        let server = try startServer()
        let client = try RawClient(port: server.port)
        try client.send("POST /metrics HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 405)
        XCTAssertEqual(response.headers["allow"], "GET")
    }

    func testConfiguredMethodsReachTheHandler() throws {
        let limits = HTTPServer.Limits(request: HTTPRequestLimits(maxBodyBytes: 64))
        let server = try HTTPServer(listen: "127.0.0.1:0", limits: limits, allowedMethods: ["GET", "POST"]) { request in
            HTTPResponse(status: .ok, text: "\(request.method) \(String(decoding: request.body, as: UTF8.self))")
        }
        server.start()
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        try client.send("POST /submit HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello")
        XCTAssertEqual(try client.readResponse().body, "POST hello")
    }

    func testGarbageGets400AndTheConnectionIsClosed() throws {
        let server = try startServer()
        let client = try RawClient(port: server.port)
        try client.send([0x16, 0x03, 0x01, 0x00, 0xA5, 0x01, 0x00])
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 400)
        XCTAssertEqual(response.headers["connection"], "close")
        XCTAssertNotNil(client.waitForClose())
    }

    func testAnOversizedHeadGets431AndTheConnectionIsClosed() throws {
        let server = try startServer()
        let client = try RawClient(port: server.port)
        try client.send("GET /metrics HTTP/1.1\r\nHost: test\r\nX-Big: " + String(repeating: "a", count: 9000))
        XCTAssertEqual(try client.readResponse().status, 431)
        XCTAssertNotNil(client.waitForClose())
    }

    func testKeepAliveServesSeveralRequestsOnOneConnection() throws {
        let server = try startServer()
        let client = try RawClient(port: server.port)
        for _ in 0..<2 {
            try client.send(getMetrics)
            XCTAssertEqual(try client.readResponse().body, "up 1\n")
        }
        try client.send("GET /metrics HTTP/1.1\r\nHost: test\r\n\r\nGET /other HTTP/1.1\r\nHost: test\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 200, "pipelined requests are answered in order")
        XCTAssertEqual(try client.readResponse().status, 404)
    }

    func testConnectionCloseIsHonoured() throws {
        let server = try startServer()
        let client = try RawClient(port: server.port)
        try client.send("GET /metrics HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(try client.readResponse().headers["connection"], "close")
        XCTAssertNotNil(client.waitForClose())
    }

    func testAThrowingHandlerCosts500AndTheServerCarriesOn() throws {
        struct Broken: Error {}
        let server = try startServer { request in
            if request.path == "/broken" { throw Broken() }
            return metricsHandler(request)
        }
        let client = try RawClient(port: server.port)
        try client.send("GET /broken HTTP/1.1\r\nHost: test\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 500)
        try client.send(getMetrics)
        XCTAssertEqual(try client.readResponse().status, 200)
    }
}
