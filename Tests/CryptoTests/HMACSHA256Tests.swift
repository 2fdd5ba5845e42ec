import Crypto
import XCTest

final class HMACSHA256Tests: XCTestCase {
    private let jefe = Array("Jefe".utf8)
    private let question = Array("what do ya want for nothing?".utf8)

    func testCodeMatchesRFC4231TestCase2() {
        XCTAssertEqual(HMACSHA256.authenticationCode(key: jefe, message: question).hex,
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    func testCodeMatchesPythonCryptography() throws {
        let v = try PythonVectors.load().hmac
        XCTAssertEqual(HMACSHA256.authenticationCode(key: v.key, message: v.message), v.mac)
        XCTAssertTrue(HMACSHA256.isValid(v.mac, key: v.key, message: v.message))
    }

    func testFlippedBitInCodeMessageOrKeyIsInvalid() throws {
        let v = try PythonVectors.load().hmac
        XCTAssertFalse(HMACSHA256.isValid(v.mac.flippingBit(at: 31), key: v.key, message: v.message))
        XCTAssertFalse(HMACSHA256.isValid(v.mac, key: v.key, message: v.message.flippingBit(at: 0)))
        XCTAssertFalse(HMACSHA256.isValid(v.mac, key: v.key.flippingBit(at: 5), message: v.message))
    }

    func testTruncatedOrEmptyCodeIsInvalid() throws {
        let v = try PythonVectors.load().hmac
        XCTAssertFalse(HMACSHA256.isValid(Array(v.mac.prefix(16)), key: v.key, message: v.message))
        XCTAssertFalse(HMACSHA256.isValid([], key: v.key, message: v.message))
    }

    func testEmptyKeyIsAccepted() {
        // RFC 2104 pads any key, the empty one included, to the block size.
        XCTAssertEqual(HMACSHA256.authenticationCode(key: [UInt8](), message: [UInt8]()).hex,
                       "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad")
    }
}
