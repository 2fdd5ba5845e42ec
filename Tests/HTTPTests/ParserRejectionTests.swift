import XCTest
@testable import HTTP

final class ParserRejectionTests: XCTestCase {
    private let parser = HTTPRequestParser()

    func testMalformedRequestsAreRefusedWithTheRightStatus() {
        let cases: [(String, [UInt8], Int)] = [
            ("garbage", [0x16, 0x03, 0x01, 0x02, 0x00, 0x01], 400),
            ("empty request line", bytes("\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"), 400),
            ("bare LF ending the request line", bytes("GET / HTTP/1.1\nHost: h\r\n\r\n"), 400),
            ("bare LF ending the head", bytes("GET / HTTP/1.1\r\nHost: h\n\n"), 400),
            ("CR without LF", bytes("GET / HTTP/1.1\rHost: h\r\n\r\n"), 400),
            ("non-ASCII in the request line", bytes("GET /caf") + [0xC3, 0xA9] + bytes(" HTTP/1.1\r\nHost: h\r\n\r\n"), 400),
            ("tab in the request line", bytes("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n"), 400),
            ("two spaces between parts", bytes("GET  / HTTP/1.1\r\nHost: h\r\n\r\n"), 400),
            ("method is not a token", bytes("GE(T / HTTP/1.1\r\nHost: h\r\n\r\n"), 400),
            ("absolute-form target", bytes("GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n"), 400),
            ("asterisk target", bytes("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"), 400),
            ("lowercase version", bytes("GET / http/1.1\r\nHost: h\r\n\r\n"), 400),
            ("HTTP/2.0", bytes("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), 505),
            ("HTTP/0.9", bytes("GET / HTTP/0.9\r\n\r\n"), 505),
            ("obs-fold", bytes("GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n two\r\n\r\n"), 400),
            ("NUL in a value", bytes("GET / HTTP/1.1\r\nHost: h\r\nX-A: a") + [0] + bytes("b\r\n\r\n"), 400),
            ("DEL in a value", bytes("GET / HTTP/1.1\r\nHost: h\r\nX-A: a") + [0x7F] + bytes("\r\n\r\n"), 400),
            ("space before the colon", bytes("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), 400),
            ("header without colon", bytes("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n"), 400),
            ("empty header name", bytes("GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n"), 400),
            ("missing Host on 1.1", bytes("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"), 400),
            ("two Host headers", bytes("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400),
            ("Content-Length with Transfer-Encoding", bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"), 400),
            ("Transfer-Encoding alone", bytes("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"), 501),
            ("differing Content-Length", bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nContent-Length: 1\r\n\r\n"), 400),
            ("Content-Length list", bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0, 0\r\n\r\n"), 400),
            ("signed Content-Length", bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +0\r\n\r\n"), 400),
            ("non-digit Content-Length", bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n"), 400),
            ("body beyond the default limit of 0", bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n"), 413),
            ("Content-Length beyond Int", bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n"), 413),
        ]
        for (name, input, status) in cases {
            guard case .failed(let error) = parser.parse(input) else {
                XCTFail("\(name): expected \(status), got \(parser.parse(input))")
                continue
            }
            XCTAssertEqual(error.status.code, status, "\(name): \(error.reason)")
        }
    }

    func testGarbageIsRefusedBeforeAnyLineEnds() {
        XCTAssertEqual(status(parser.parse([0x16, 0x03, 0x01])), 400)
    }

    func testAnOversizedHeadIsRefusedBeforeItsEndArrives() throws {
        let parser = HTTPRequestParser(limits: HTTPRequestLimits(maxHeadBytes: 100))
        let start = bytes("GET / HTTP/1.1\r\nHost: h\r\nX-Big: ") + Array(repeating: UInt8(ascii: "a"), count: 64)
        XCTAssertEqual(start.count, 96)
        XCTAssertEqual(parser.parse(start), .needMore, "the head may still end within the limit")
        XCTAssertNoThrow(try complete(parser.parse(start + bytes("\r\n\r\n"))))
        XCTAssertEqual(status(parser.parse(start + Array(repeating: UInt8(ascii: "a"), count: 5))), 431)
    }

    func testAHeadWhoseTerminatorCrossesTheLimitIsRefused() {
        let parser = HTTPRequestParser(limits: HTTPRequestLimits(maxHeadBytes: 30))
        let text = bytes("GET / HTTP/1.1\r\nHost: abcdef\r\n\r\n")
        XCTAssertEqual(text.count, 32)
        XCTAssertEqual(status(parser.parse(text)), 431)
    }

    func testAnOverlongRequestLineIsURITooLong() {
        let parser = HTTPRequestParser(limits: HTTPRequestLimits(maxHeadBytes: 64))
        XCTAssertEqual(status(parser.parse(bytes("GET /" + String(repeating: "a", count: 64)))), 414)
    }

    func testMoreThanTheMaximumHeaderCountIs431() {
        let fields = (0..<101).map { "X-\($0): v\r\n" }.joined()
        XCTAssertEqual(status(parser.parse(bytes("GET / HTTP/1.1\r\nHost: h\r\n" + fields + "\r\n"))), 431)
        let allowed = (0..<99).map { "X-\($0): v\r\n" }.joined()
        XCTAssertNoThrow(try complete(parser.parse(bytes("GET / HTTP/1.1\r\nHost: h\r\n" + allowed + "\r\n"))))
    }

    func testAHugeContentLengthIsRefusedBeforeAnyBodyArrives() {
        let parser = HTTPRequestParser(limits: HTTPRequestLimits(maxBodyBytes: 1024))
        XCTAssertEqual(status(parser.parse(bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1025\r\n\r\n"))), 413)
    }

    func testTruncatedRequestsNeverComplete() {
        let full = bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        for end in [0, 1, 5, 15, 16, 20, full.count - 2, full.count - 1] {
            XCTAssertEqual(parser.parse(full[..<end]), .needMore, "prefix of \(end) bytes")
        }
    }

    func testABadRequestLineIsRefusedOnceItsLineEndsWithoutWaitingForHeaders() {
        XCTAssertEqual(status(parser.parse(bytes("GET / HTTP/3.0\r\nHost: h"))), 505)
        XCTAssertEqual(status(parser.parse(bytes("GET nope HTTP/1.1\r\n"))), 400)
    }

    private func status(_ result: HTTPParseResult) -> Int? {
        guard case .failed(let error) = result else { return nil }
        return error.status.code
    }
}
