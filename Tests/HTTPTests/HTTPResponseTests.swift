import XCTest
@testable import HTTP

final class HTTPResponseTests: XCTestCase {
    func testAResponseIsFramedByItsBodyLength() {
        let response = HTTPResponse(status: .ok, contentType: "text/plain", headers: ["X-A": "1"], body: bytes("hello"))
        XCTAssertEqual(text(response.serialized(keepAlive: true, date: "Thu, 01 Jan 1970 00:00:00 GMT")),
                       "HTTP/1.1 200 OK\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\nContent-Type: text/plain\r\nX-A: 1\r\n"
                       + "Content-Length: 5\r\n\r\nhello")
    }

    func testClosingAddsConnectionClose() {
        let serialized = text(HTTPResponse(status: .notFound).serialized(keepAlive: false))
        XCTAssertEqual(serialized, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    }

    func testHandlerHeadersCannotBreakFramingOrInjectLines() {
        let response = HTTPResponse(status: .ok, headers: HTTPHeaders([
            HTTPHeaderField(name: "Content-Length", value: "999"),
            HTTPHeaderField(name: "transfer-encoding", value: "chunked"),
            HTTPHeaderField(name: "Connection", value: "keep-alive"),
            HTTPHeaderField(name: "X-Evil", value: "a\r\nSet-Cookie: x=1"),
            HTTPHeaderField(name: "Bad Name", value: "v"),
            HTTPHeaderField(name: "X-Good", value: "fine"),
        ]), body: bytes("ab"))
        XCTAssertEqual(text(response.serialized(keepAlive: false)),
                       "HTTP/1.1 200 OK\r\nX-Good: fine\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab")
    }

    func testNoContentCarriesNeitherBodyNorLength() {
        let serialized = text(HTTPResponse(status: .noContent, body: bytes("ignored")).serialized(keepAlive: true))
        XCTAssertEqual(serialized, "HTTP/1.1 204 No Content\r\n\r\n")
    }

    func testAnImpossibleStatusCodeIsSentAs500() {
        let serialized = text(HTTPResponse(status: HTTPStatus(code: 42, reason: "odd")).serialized(keepAlive: true))
        XCTAssertTrue(serialized.hasPrefix("HTTP/1.1 500 Internal Server Error\r\n"), serialized)
    }

    func testHTTPDateIsIMFFixdate() {
        XCTAssertEqual(httpDate(secondsSinceEpoch: 784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT")
        XCTAssertEqual(httpDate(secondsSinceEpoch: 0), "Thu, 01 Jan 1970 00:00:00 GMT")
    }

    private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
