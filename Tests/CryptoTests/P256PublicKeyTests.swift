import Crypto
import XCTest

final class P256PublicKeyTests: XCTestCase {
    /// The Python-made vectors and the key built from them.
    private func p256() throws -> (vectors: PythonVectors.P256, key: P256PublicKey) {
        let v = try PythonVectors.load().p256
        return (v, try P256PublicKey(x: v.x, y: v.y))
    }

    func testPythonSignatureVerifies() throws {
        let (v, key) = try p256()
        XCTAssertTrue(key.isValidES256(signature: v.signature, message: v.message))
    }

    func testFlippedBitInMessageFails() throws {
        let (v, key) = try p256()
        XCTAssertFalse(key.isValidES256(signature: v.signature, message: v.message.flippingBit(at: 7)))
    }

    func testFlippedBitInROrSFails() throws {
        let (v, key) = try p256()
        XCTAssertFalse(key.isValidES256(signature: v.signature.flippingBit(at: 10), message: v.message))
        XCTAssertFalse(key.isValidES256(signature: v.signature.flippingBit(at: 63), message: v.message))
    }

    func testSignatureOf63Or65Or72BytesFails() throws {
        let (v, key) = try p256()
        XCTAssertFalse(key.isValidES256(signature: Array(v.signature.dropLast()), message: v.message))
        XCTAssertFalse(key.isValidES256(signature: v.signature + [0], message: v.message))
        XCTAssertFalse(key.isValidES256(signature: v.signature + [UInt8](repeating: 0, count: 8), message: v.message))
        XCTAssertFalse(key.isValidES256(signature: [], message: v.message))
    }

    func testDEREncodedSignatureFails() throws {
        let (v, key) = try p256()
        XCTAssertFalse(key.isValidES256(signature: v.der, message: v.message))
    }

    func testZeroSignatureFails() throws {
        let (v, key) = try p256()
        XCTAssertFalse(key.isValidES256(signature: [UInt8](repeating: 0, count: 64), message: v.message))
    }

    func testPointOffTheCurveIsRefused() throws {
        let v = try PythonVectors.load().p256
        XCTAssertThrowsError(try P256PublicKey(x: v.x, y: v.y.flippingBit(at: 31))) { error in
            XCTAssertTrue("\(error)".contains("P-256 public key"), "\(error)")
            XCTAssertTrue("\(error)".contains("point is not on curve"), "\(error)")
        }
    }

    func testCoordinateBeyondTheFieldIsRefused() {
        XCTAssertThrowsError(try P256PublicKey(x: [UInt8](repeating: 0xff, count: 32), y: [UInt8](repeating: 0xff, count: 32)))
    }

    func testCoordinatesOfWrongLengthAreRefused() throws {
        let v = try PythonVectors.load().p256
        XCTAssertThrowsError(try P256PublicKey(x: Array(v.x.dropFirst()), y: v.y))
        XCTAssertThrowsError(try P256PublicKey(x: v.x, y: [0] + v.y))
        XCTAssertThrowsError(try P256PublicKey(x: [], y: []))
    }
}
