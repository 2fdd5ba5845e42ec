import Crypto
import Foundation
import Synchronization
import XCTest

final class RSAPublicKeyTests: XCTestCase {
    /// The Python-made vectors and the key built from them.
    private func rsa() throws -> (vectors: PythonVectors.RSA, key: RSAPublicKey) {
        let v = try PythonVectors.load().rsa
        return (v, try RSAPublicKey(modulus: v.n, exponent: v.e))
    }

    func testPythonSignatureVerifies() throws {
        let (v, key) = try rsa()
        XCTAssertEqual(key.modulusBitCount, 2048)
        XCTAssertTrue(key.isValidRS256(signature: v.signature, message: v.message))
    }

    func testFlippedBitInMessageFails() throws {
        let (v, key) = try rsa()
        XCTAssertFalse(key.isValidRS256(signature: v.signature, message: v.message.flippingBit(at: 7)))
    }

    func testFlippedBitInSignatureFails() throws {
        let (v, key) = try rsa()
        XCTAssertFalse(key.isValidRS256(signature: v.signature.flippingBit(at: 100), message: v.message))
    }

    func testTruncatedOrExtendedSignatureFails() throws {
        let (v, key) = try rsa()
        XCTAssertFalse(key.isValidRS256(signature: Array(v.signature.dropLast()), message: v.message))
        XCTAssertFalse(key.isValidRS256(signature: [0] + v.signature, message: v.message))
        XCTAssertFalse(key.isValidRS256(signature: v.signature + [0], message: v.message))
        XCTAssertFalse(key.isValidRS256(signature: [], message: v.message))
    }

    func testLeadingZeroInModulusDoesNotCount() throws {
        let v = try PythonVectors.load().rsa
        let key = try RSAPublicKey(modulus: [0] + v.n, exponent: v.e)
        XCTAssertTrue(key.isValidRS256(signature: v.signature, message: v.message))
    }

    func testKeyOf1024BitsIsRefused() throws {
        let v = try PythonVectors.load().rsa1024
        XCTAssertThrowsError(try RSAPublicKey(modulus: v.n, exponent: v.e)) { error in
            XCTAssertTrue("\(error)".contains("1024 bits"), "\(error)")
        }
    }

    func testEvenOrUnitExponentIsRefused() throws {
        let v = try PythonVectors.load().rsa
        XCTAssertThrowsError(try RSAPublicKey(modulus: v.n, exponent: [1]))
        XCTAssertThrowsError(try RSAPublicKey(modulus: v.n, exponent: [1, 0, 0]))
        XCTAssertThrowsError(try RSAPublicKey(modulus: v.n, exponent: []))
    }

    func testFourThreadsShareOneKey() throws {
        let (v, key) = try rsa()
        let valid = Atomic<Int>(0)
        let finished = (0..<4).map { _ in
            let done = DispatchSemaphore(value: 0)
            Thread {
                for _ in 0..<200 where key.isValidRS256(signature: v.signature, message: v.message) {
                    valid.add(1, ordering: .relaxed)
                }
                done.signal()
            }.start()
            return done
        }
        for done in finished { XCTAssertEqual(done.wait(timeout: .now() + 60), .success) }
        XCTAssertEqual(valid.load(ordering: .relaxed), 800)
    }
}
