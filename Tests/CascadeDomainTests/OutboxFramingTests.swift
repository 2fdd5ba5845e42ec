import CascadeDomain
import Foundation
import XCTest

final class OutboxFramingTests: XCTestCase {
    private let messages = [
        OutboxMessage(topic: "cascade.results", key: Array("job-1".utf8), value: Array(#"{"code":200}"#.utf8),
                      headers: [OutboxHeader("request-id", "req-1")]),
        OutboxMessage(topic: "cascade.requests", key: nil, value: [], headers: []),
        OutboxMessage(topic: "dlq-ü", key: [], value: [0x00, 0xFF, 0x7F],
                      headers: [OutboxHeader("raw", [0xFF, 0x00]), OutboxHeader("none", nil), OutboxHeader("empty", [])]),
        OutboxMessage(topic: "dlq", key: Array("job-2".utf8), value: nil, headers: [OutboxHeader("dlq-reason", "tombstone")]),
    ]

    func testRoundTripKeepsEveryFieldAndTheOrder() throws {
        XCTAssertEqual(try OutboxFraming.decode(OutboxFraming.encode(messages)), messages)
    }

    /// A tombstone's dead letter keeps its null value; an empty value stays empty.
    func testANullValueIsMinusOneAndDistinctFromEmpty() throws {
        let null = OutboxMessage(topic: "t", key: nil, value: nil)
        XCTAssertEqual(OutboxFraming.encode([null]), [0x01, 0, 0, 0, 1, 0x74, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0])
        let decoded = try OutboxFraming.decode(OutboxFraming.encode([null, OutboxMessage(topic: "t", key: nil, value: [])]))
        XCTAssertNil(decoded[0].value)
        XCTAssertEqual(decoded[1].value, [])
    }

    func testNoMessagesIsTheFormatByteAlone() throws {
        XCTAssertEqual(OutboxFraming.encode([]), [OutboxFraming.formatVersion])
        XCTAssertEqual(try OutboxFraming.decode([OutboxFraming.formatVersion]), [])
    }

    /// The layout is a contract with migration 3, which writes it in SQL: pin it byte for byte.
    func testLayoutIsBigEndianLengthsWithMinusOneForNone() {
        let one = OutboxMessage(topic: "t", key: nil, value: [0x41], headers: [OutboxHeader("h", nil)])
        XCTAssertEqual(OutboxFraming.encode([one]), [
            0x01,
            0, 0, 0, 1, 0x74,
            0xFF, 0xFF, 0xFF, 0xFF,
            0, 0, 0, 1, 0x41,
            0, 0, 0, 1,
            0, 0, 0, 1, 0x68, 0xFF, 0xFF, 0xFF, 0xFF,
        ])
    }

    /// A cut exactly between two messages is a shorter valid row holding exactly the messages
    /// before it; a cut anywhere else is an error, never a crash or a wrong message.
    func testEveryTruncationIsAnErrorNotACrash() {
        let bytes = OutboxFraming.encode(messages)
        let boundaries = Dictionary(uniqueKeysWithValues: (0..<messages.count).map { (OutboxFraming.encode(Array(messages.prefix($0))).count, $0) })
        for length in 0..<bytes.count {
            let prefix = Array(bytes[..<length])
            if let count = boundaries[length], length > 0 {
                XCTAssertEqual(try OutboxFraming.decode(prefix), Array(messages.prefix(count)), "cut at \(length)")
            } else {
                XCTAssertThrowsError(try OutboxFraming.decode(prefix), "cut at \(length)")
            }
        }
        XCTAssertThrowsError(try OutboxFraming.decode([]))
        XCTAssertThrowsError(try OutboxFraming.decode(Array(bytes.dropLast())))
    }

    func testUnknownFormatAndBadTextAreErrors() {
        var bytes = OutboxFraming.encode(messages)
        bytes[0] = 2
        XCTAssertThrowsError(try OutboxFraming.decode(bytes)) { XCTAssertTrue("\($0)".contains("unknown outbox format 2")) }
        let badTopic: [UInt8] = [0x01, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0]
        XCTAssertThrowsError(try OutboxFraming.decode(badTopic)) { XCTAssertTrue("\($0)".contains("not UTF-8")) }
        let hugeLength: [UInt8] = [0x01, 0x7F, 0xFF, 0xFF, 0xFF, 0x74]
        XCTAssertThrowsError(try OutboxFraming.decode(hugeLength)) { XCTAssertTrue("\($0)".contains("truncated")) }
    }

    func testOutcomesRoundTripThroughTheirStoredJSON() throws {
        let outcomes: [SubscriptionOutcome] = [
            .triggered(subscriptionId: UUID(), jobId: "child-1"),
            .failed(subscriptionId: UUID(), error: "target model \"t\" has no active version"),
        ]
        guard case .array(let items) = try JSONParser.parse(SubscriptionOutcome.jsonText(outcomes)) else { return XCTFail("not an array") }
        XCTAssertEqual(items.compactMap(SubscriptionOutcome.init(json:)), outcomes)
        XCTAssertEqual(SubscriptionOutcome.jsonText([]), "[]")
        // Appended after what a buffer already holds (an array parameter's framing), unchanged.
        var framed: [UInt8] = [0, 0, 0, 9]
        SubscriptionOutcome.writeJSON(outcomes, appendingTo: &framed)
        XCTAssertEqual(Array(framed.prefix(4)), [0, 0, 0, 9])
        XCTAssertEqual(String(decoding: framed.dropFirst(4), as: UTF8.self), SubscriptionOutcome.jsonText(outcomes))
    }

    func testAnythingButAnOutcomeIsRefused() throws {
        let id = UUID().uuidString
        for text in [#"{"job_id":"j"}"#, #"{"subscription_id":"nope","job_id":"j"}"#, #"{"subscription_id":"\#(id)"}"#,
                     #"{"subscription_id":"\#(id)","job_id":"j","error":"e"}"#, #"{"subscription_id":"\#(id)","job_id":7}"#, "[]"] {
            XCTAssertNil(SubscriptionOutcome(json: try JSONParser.parse(text)), text)
        }
    }
}
