import TestSupport
import XCTest
@testable import HTTP

/// Random mutations of valid requests from a fixed seed, so a failure reproduces exactly.
final class ParserFuzzTests: XCTestCase {
    private let seeds = [
        "GET /metrics HTTP/1.1\r\nHost: localhost:9090\r\nAccept: text/plain\r\n\r\n",
        "GET /a?b=c HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "POST /submit HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbodyGET / HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\nX-B: \t two \r\n\r\n",
    ].map { Array($0.utf8) }

    func testMutatedRequestsAlwaysYieldAConsistentResultWithinTheirBytes() {
        let parser = HTTPRequestParser(limits: HTTPRequestLimits(maxHeadBytes: 256, maxBodyBytes: 16, maxHeaderCount: 8))
        var random = SplitMix64(seed: 0x5EED_CA5C_ADE)
        var outcomes = [0, 0, 0]
        for iteration in 0..<20_000 {
            var input = seeds[Int(random.next() % UInt64(seeds.count))]
            for _ in 0...(random.next() % 4) { mutate(&input, &random) }
            // Padding on both sides that would change the result if the parser strayed outside.
            let padded = bytes("\r\n") + input + bytes("\r\n\r\n")
            let inSlice = parser.parse(padded[2..<(2 + input.count)])
            let result = parser.parse(input)
            XCTAssertEqual(inSlice, result, "iteration \(iteration): a slice parses like the same bytes alone")
            switch result {
            case .needMore:
                outcomes[0] += 1
            case .failed(let error):
                outcomes[1] += 1
                XCTAssertTrue([400, 413, 414, 431, 501, 505].contains(error.status.code), "iteration \(iteration): \(error)")
            case .complete(let request, let consumed):
                outcomes[2] += 1
                XCTAssertTrue((1...input.count).contains(consumed), "iteration \(iteration)")
                XCTAssertLessThanOrEqual(request.body.count, 16)
                XCTAssertEqual(parser.parse(input[..<consumed]), result, "iteration \(iteration): the request alone parses the same")
                let cut = Int(random.next() % UInt64(consumed))
                XCTAssertEqual(parser.parse(input[..<cut]), .needMore, "iteration \(iteration): a prefix is not yet a request")
            }
        }
        // Guards against a fuzz that only ever produced one kind of result.
        XCTAssertTrue(outcomes.allSatisfy { $0 > 500 }, "outcomes needMore/failed/complete: \(outcomes)")
    }

    private func mutate(_ input: inout [UInt8], _ random: inout SplitMix64) {
        let interesting: [UInt8] = [0x00, 0x09, 0x0A, 0x0D, 0x20, 0x3A, 0x7F, 0x80, 0xFF, UInt8(ascii: "/"), UInt8(ascii: "0")]
        let position = input.isEmpty ? 0 : Int(random.next() % UInt64(input.count))
        let byte = random.next() % 2 == 0 ? interesting[Int(random.next() % UInt64(interesting.count))] : UInt8(truncatingIfNeeded: random.next())
        switch random.next() % 5 {
        case 0 where !input.isEmpty: input[position] = byte
        case 1: input.insert(byte, at: position)
        case 2 where !input.isEmpty: input.remove(at: position)
        case 3: input = Array(input[..<position])
        default:
            let length = min(Int(random.next() % 300), input.count - position)
            input.insert(contentsOf: input[position..<(position + length)], at: position)
        }
    }
}
