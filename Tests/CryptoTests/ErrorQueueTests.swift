import CLibCrypto
import Crypto
import XCTest

/// OpenSSL's error queue is per thread; a failure that leaves an entry behind would be
/// reported as the cause of some later, unrelated failure on the same thread.
final class ErrorQueueTests: XCTestCase {
    override func setUp() {
        ERR_clear_error()
    }

    func testRefusedKeyLeavesTheQueueEmpty() throws {
        let v = try PythonVectors.load().p256
        XCTAssertThrowsError(try P256PublicKey(x: v.x, y: v.y.flippingBit(at: 31)))
        XCTAssertEqual(ERR_peek_error(), 0)
    }

    func testFailedVerificationsLeaveTheQueueEmpty() throws {
        let rsa = try PythonVectors.load().rsa
        let rsaKey = try RSAPublicKey(modulus: rsa.n, exponent: rsa.e)
        XCTAssertFalse(rsaKey.isValidRS256(signature: rsa.signature.flippingBit(at: 0), message: rsa.message))
        XCTAssertEqual(ERR_peek_error(), 0)

        let ec = try PythonVectors.load().p256
        let ecKey = try P256PublicKey(x: ec.x, y: ec.y)
        XCTAssertFalse(ecKey.isValidES256(signature: [UInt8](repeating: 0, count: 64), message: ec.message))
        XCTAssertFalse(ecKey.isValidES256(signature: ec.signature.flippingBit(at: 3), message: ec.message))
        XCTAssertEqual(ERR_peek_error(), 0)
    }
}
