@testable import CascadeDomain
import XCTest

final class NameBasedUUIDTests: XCTestCase {
    /// The digest's five words as the usual 40 hex digits.
    private func hex(_ h: (UInt32, UInt32, UInt32, UInt32, UInt32)) -> String {
        [h.0, h.1, h.2, h.3, h.4].map { String(format: "%08x", $0) }.joined()
    }

    /// FIPS 180-4 test vectors, including a message that needs a second block of padding.
    func testSHA1MatchesTheStandardVectors() {
        XCTAssertEqual(hex(SHA1.hash([])), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        XCTAssertEqual(hex(SHA1.hash(Array("abc".utf8))), "a9993e364706816aba3e25717850c26c9cd0d89d")
        XCTAssertEqual(hex(SHA1.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))),
                       "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        XCTAssertEqual(hex(SHA1.hash(Array(repeating: UInt8(ascii: "a"), count: 1_000_000))),
                       "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
        // Around the block and padding edges (Python's hashlib): 55 bytes pad in one block, 56
        // to 63 need a second, 64 is one whole block and a padding block.
        let edges: [Int: String] = [55: "aecd1643c9903b9bae8cb94f53c50f8a4e18605b", 63: "4952f0fe097e4d6410ae9eab4855aa836caf3bff",
                                    64: "1e17ae1fc093e5daca033553c97a5192ca164486", 65: "ac44f5dbe3e9b5d2733fc9537fcad715c3c20bc3",
                                    119: "b4a4e69060d0b1e7e8ebbf7041a4211c63438b57", 120: "b651390c2996406336a3f6647e4b590c18cdd6f8"]
        for (count, expected) in edges {
            XCTAssertEqual(hex(SHA1.hash((0..<count).map { UInt8(truncatingIfNeeded: $0 * 7) })), expected, "\(count) bytes")
        }
    }

    /// RFC 9562 appendix A.4: version 5 for "www.example.com" in the DNS namespace.
    func testVersion5MatchesTheRFCExample() throws {
        let dns = try XCTUnwrap(UUID(uuidString: "6ba7b810-9dad-11d1-80b4-00c04fd430c8"))
        XCTAssertEqual(NameBasedUUID.make(namespace: dns, name: "www.example.com").lowercasedText,
                       "2ed6657d-e927-568b-95e1-2665a8aea6a2")
    }

    func testAnAnswersEventIdIsTheVersion5IdOfItsKindAndCoordinates() {
        let source = ReportSource(topic: "pie.job-completions", partition: 3, offset: 1234)
        XCTAssertEqual(source.eventId(.result),
                       NameBasedUUID.make(namespace: ReportSource.eventIdNamespace, name: "result:pie.job-completions/3/1234"))
        // Pinned: clients compute it too (CONTRACTS.md), so it must never change.
        XCTAssertEqual(source.eventId(.result).lowercasedText, "e0da4977-8caf-53fc-a95d-8b83ebfe8df1", "Python's uuid.uuid5 agrees")
        XCTAssertEqual(source.eventId(.deadLetter),
                       NameBasedUUID.make(namespace: ReportSource.eventIdNamespace, name: "dead-letter:pie.job-completions/3/1234"))
    }
}
