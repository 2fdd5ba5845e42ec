import XCTest
@testable import HTTP

final class ParserAcceptanceTests: XCTestCase {
    private let parser = HTTPRequestParser()

    func testSimpleGetIsCompleteAndConsumesExactlyItsBytes() throws {
        let text = "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n"
        let (request, consumed) = try complete(parser.parse(bytes(text)))
        XCTAssertEqual(consumed, text.utf8.count)
        XCTAssertEqual(request.method, "GET")
        XCTAssertEqual(request.target, "/metrics")
        XCTAssertEqual(request.path, "/metrics")
        XCTAssertNil(request.query)
        XCTAssertEqual(request.version, .http1_1)
        XCTAssertEqual(request.body, [])
    }

    func testQueryIsSplitFromPathWithoutDecoding() throws {
        let (request, _) = try complete(parser.parse(bytes("GET /a%20b?x=1&y=%2F HTTP/1.1\r\nHost: h\r\n\r\n")))
        XCTAssertEqual(request.path, "/a%20b")
        XCTAssertEqual(request.query, "x=1&y=%2F")
    }

    func testHeadersKeepOrderAndSpellingButLookUpIgnoringCase() throws {
        let text = "GET / HTTP/1.1\r\nHost: h\r\nX-Trace:  abc \t\r\nx-trace: def\r\nAccept:\r\n\r\n"
        let (request, _) = try complete(parser.parse(bytes(text)))
        XCTAssertEqual(request.headers.fields.map(\.name), ["Host", "X-Trace", "x-trace", "Accept"])
        XCTAssertEqual(request.headers["X-TRACE"], "abc", "surrounding whitespace is not part of the value")
        XCTAssertEqual(request.headers.values(for: "x-trace"), ["abc", "def"])
        XCTAssertEqual(request.headers["accept"], "")
    }

    func testObsTextInAValueIsKeptByteForByte() throws {
        let head = bytes("GET / HTTP/1.1\r\nHost: h\r\nX-Name: caf") + [0xE9] + bytes("\r\n\r\n")
        let (request, _) = try complete(parser.parse(head))
        XCTAssertEqual(request.headers["X-Name"], "caf\u{E9}")
    }

    func testKeepAliveDefaultsFollowTheVersion() throws {
        let cases: [(String, Bool)] = [
            ("GET / HTTP/1.1\r\nHost: h\r\n\r\n", true),
            ("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", false),
            ("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, CLOSE\r\n\r\n", false),
            ("GET / HTTP/1.0\r\n\r\n", false),
            ("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true),
            ("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false),
        ]
        for (text, expected) in cases {
            let (request, _) = try complete(parser.parse(bytes(text)))
            XCTAssertEqual(request.keepAlive, expected, text.debugDescription)
        }
    }

    func testPipelinedRequestsAreParsedOneAfterTheOther() throws {
        let buffer = bytes("GET /one HTTP/1.1\r\nHost: h\r\n\r\nGET /two HTTP/1.1\r\nHost: h\r\n\r\n")
        let (first, consumed) = try complete(parser.parse(buffer))
        XCTAssertEqual(first.target, "/one")
        let (second, rest) = try complete(parser.parse(buffer[consumed...]))
        XCTAssertEqual(second.target, "/two")
        XCTAssertEqual(consumed + rest, buffer.count)
    }

    func testByteByByteDeliveryNeedsMoreUntilTheLastByte() throws {
        let buffer = bytes("GET /slow?q=1 HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n")
        for end in 0..<buffer.count {
            XCTAssertEqual(parser.parse(buffer[..<end]), .needMore, "after \(end) bytes")
        }
        let (request, consumed) = try complete(parser.parse(buffer))
        XCTAssertEqual(request.target, "/slow?q=1")
        XCTAssertEqual(consumed, buffer.count)
    }

    func testBodyWithinTheLimitIsReadToItsLength() throws {
        let parser = HTTPRequestParser(limits: HTTPRequestLimits(maxBodyBytes: 16))
        let head = "POST /submit HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n"
        XCTAssertEqual(parser.parse(bytes(head + "hel")), .needMore)
        let (request, consumed) = try complete(parser.parse(bytes(head + "helloGET")))
        XCTAssertEqual(request.body, bytes("hello"))
        XCTAssertEqual(consumed, head.utf8.count + 5)
    }

    func testZeroContentLengthAndRepeatedEqualLengthsAreAccepted() throws {
        _ = try complete(parser.parse(bytes("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n")))
        let limited = HTTPRequestParser(limits: HTTPRequestLimits(maxBodyBytes: 8))
        let (request, _) = try complete(limited.parse(bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 02\r\n\r\nok")))
        XCTAssertEqual(request.body, bytes("ok"))
    }

    func testHeadExactlyAtTheLimitIsAccepted() throws {
        let parser = HTTPRequestParser(limits: HTTPRequestLimits(maxHeadBytes: 64))
        let prefix = "GET / HTTP/1.1\r\nHost: h\r\nX: "
        let text = prefix + String(repeating: "a", count: 64 - prefix.utf8.count - 4) + "\r\n\r\n"
        XCTAssertEqual(text.utf8.count, 64)
        _ = try complete(parser.parse(bytes(text)))
    }

    func testParsingASliceReadsOnlyTheSlice() throws {
        let buffer = bytes("xxGET / HTTP/1.1\r\nHost: h\r\n\r\nyy")
        let (request, consumed) = try complete(parser.parse(buffer[2..<(buffer.count - 2)]))
        XCTAssertEqual(request.target, "/")
        XCTAssertEqual(consumed, buffer.count - 4)
    }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

func complete(_ result: HTTPParseResult, file: StaticString = #filePath, line: UInt = #line) throws -> (HTTPRequest, Int) {
    guard case .complete(let request, let consumed) = result else {
        XCTFail("expected a complete request, got \(result)", file: file, line: line)
        throw CancellationError()
    }
    return (request, consumed)
}
