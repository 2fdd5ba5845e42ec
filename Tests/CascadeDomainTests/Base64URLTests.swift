import CascadeDomain
import Foundation
import TestSupport
import XCTest

final class Base64URLTests: XCTestCase {
    private let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

    /// RFC 4648 §10, with the padding removed as RFC 7515 requires.
    func testRFC4648VectorsUnpadded() {
        let vectors = [("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy")]
        for (plain, encoded) in vectors {
            XCTAssertEqual(Base64URL.encode(Array(plain.utf8)), encoded)
            XCTAssertEqual(Base64URL.decode(encoded), Array(plain.utf8), encoded)
        }
    }

    func testURLAlphabetReplacesPlusAndSlash() {
        XCTAssertEqual(Base64URL.encode([0xFB, 0xFF]), "-_8")
        XCTAssertEqual(Base64URL.decode("-_8"), [0xFB, 0xFF])
        XCTAssertNil(Base64URL.decode("+/8"))
        XCTAssertNil(Base64URL.decode("-/8"))
        XCTAssertNil(Base64URL.decode("+_8"))
    }

    func testPaddingAnywhereIsRefused() {
        for text in ["Zg==", "Zg=", "Zm9v=", "Zm8=", "=", "==", "Zm=9", "=Zm9", "Zm9vYmFy===="] {
            XCTAssertNil(Base64URL.decode(text), text)
        }
    }

    func testALengthOfOneMoreThanAMultipleOfFourIsRefused() {
        for text in ["Z", "Zm9vY", "Zm9vYmFyZ", "A"] { XCTAssertNil(Base64URL.decode(text), text) }
    }

    func testWhitespaceAndOtherBytesAreRefused() {
        for text in ["Zm9v Yg", "Zm9v\nYg", " Zm9v", "Zm9v\t", "Zm9v\r\n", "Zm.9", "Zm9vé", "Zm9v\0", "Zm9v%3D", "Zm9*"] {
            XCTAssertNil(Base64URL.decode(text), text.debugDescription)
        }
        XCTAssertNil(Base64URL.decode([0x5A, 0x6D, 0x39, 0xFF]), "a byte above 0x7F")
    }

    /// "QQ" is the only two-character spelling of "A": the second character's low four bits are
    /// unused and must be zero, so "QR" .. "QT" and the like are refused.
    func testNonCanonicalTrailingBitsAreRefusedForTwoCharacterTails() {
        XCTAssertEqual(Base64URL.decode("QQ"), [0x41])
        XCTAssertNil(Base64URL.decode("QR"))
        XCTAssertNil(Base64URL.decode("Zh"), "the non-canonical twin of Zg (\"f\")")
        for (value, character) in alphabet.enumerated() {
            let decoded = Base64URL.decode("Q\(character)")
            XCTAssertEqual(decoded != nil, value & 0x0F == 0, "Q\(character)")
        }
        XCTAssertEqual(alphabet.indices.filter { Base64URL.decode("Zm9vQ\(alphabet[$0])") != nil }.map { alphabet[$0] }, ["A", "Q", "g", "w"])
    }

    func testNonCanonicalTrailingBitsAreRefusedForThreeCharacterTails() {
        XCTAssertEqual(Base64URL.decode("QUE"), [0x41, 0x41])
        XCTAssertNil(Base64URL.decode("QUF"))
        XCTAssertNil(Base64URL.decode("Zm9"), "the non-canonical twin of Zm8 (\"fo\")")
        for (value, character) in alphabet.enumerated() {
            XCTAssertEqual(Base64URL.decode("QU\(character)") != nil, value & 0x03 == 0, "QU\(character)")
        }
    }

    func testDecodesSubstringsAndByteArraysAlike() {
        let text = "xx.Zm9vYmE.yy"
        let middle = text.split(separator: ".")[1]
        XCTAssertEqual(Base64URL.decode(middle), Array("fooba".utf8))
        XCTAssertEqual(Base64URL.decode(Array("Zm9vYmE".utf8)), Array("fooba".utf8))
        XCTAssertEqual(Base64URL.decode(Array("Zm9vYmE".utf8)[...]), Array("fooba".utf8))
        XCTAssertEqual(Base64URL.decode(""), [])
    }

    /// Random bytes of every length 0...100 survive our encoder and decoder, and our text is
    /// exactly Foundation's base64 converted to the URL alphabet without padding. Foundation's
    /// own text is refused whenever it differs (padding, '+' or '/').
    func testRandomRoundTripsAgreeWithFoundation() {
        var generator = SplitMix64(seed: 0x5EED_CA5C_ADE0_0001)
        var refusedStandard = 0
        for length in 0...100 {
            for _ in 0..<20 {
                let bytes = (0..<length).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
                let standard = Data(bytes).base64EncodedString()
                let converted = standard.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                    .replacingOccurrences(of: "=", with: "")
                XCTAssertEqual(Base64URL.encode(bytes), converted)
                XCTAssertEqual(Base64URL.decode(converted), bytes)
                XCTAssertEqual(Base64URL.decode(Base64URL.encode(bytes)), bytes)
                if standard != converted {
                    XCTAssertNil(Base64URL.decode(standard), standard)
                    refusedStandard += 1
                }
            }
        }
        XCTAssertGreaterThan(refusedStandard, 1000, "the standard-alphabet check must not pass vacuously")
    }
}
