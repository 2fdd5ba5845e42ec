import Crypto
import XCTest

final class SHA256Tests: XCTestCase {
    func testDigestOfABCIsTheFIPS180Vector() {
        XCTAssertEqual(SHA256.digest(Array("abc".utf8)).hex,
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func testDigestOfTheEmptyInputIsTheKnownVector() {
        XCTAssertEqual(SHA256.digest([UInt8]()).hex,
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    func testNonContiguousInputDigestsLikeItsBytes() {
        let bytes = Array("the quick brown fox".utf8)
        XCTAssertEqual(SHA256.digest(bytes.lazy.map { $0 }), SHA256.digest(bytes))
        XCTAssertEqual(SHA256.digest("the quick brown fox".utf8), SHA256.digest(bytes))
    }
}
