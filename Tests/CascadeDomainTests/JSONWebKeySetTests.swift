import CascadeDomain
import XCTest

final class JSONWebKeySetTests: XCTestCase {
    private let rsa = #"{"kty":"RSA","kid":"r1","use":"sig","alg":"RS256","n":"vNnVQr5nXew0_P-rlM5bhUyCCbEJwcIKzN_rygdFuxaiPQ","e":"AQAB"}"#
    private let ec = #"{"kty":"EC","crv":"P-256","kid":"e1","x":"ZI003WOiVdem1hd0vfPg8a3uhQFrAGUqvgsOHpQWZAg","y":"OG16pxRU0U8mz64bQAVgHqg4QQtNuOdLjAMxUTl2daI"}"#

    private func set(_ keys: String...) throws -> JSONWebKeySet {
        try JSONWebKeySet(json: #"{"keys":["# + keys.joined(separator: ",") + "]}")
    }

    private func assertError(_ json: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try JSONWebKeySet(json: json), file: file, line: line) { error in
            XCTAssertEqual((error as? JWKSError)?.message, expected, file: file, line: line)
        }
    }

    func testARealJWKSParsesFieldByField() throws {
        let set = try JWTFixtures.keySet()
        XCTAssertEqual(set.skipped, [])
        XCTAssertEqual(set.keys.count, 2)
        let rsaKey = set.keys[0], ecKey = set.keys[1]
        XCTAssertEqual(rsaKey.keyId, "rsa-2026")
        XCTAssertEqual(rsaKey.use, "sig")
        XCTAssertEqual(rsaKey.algorithm, "RS256")
        XCTAssertEqual(rsaKey.keyType, .rsa)
        guard case .rsa(let modulus, let exponent) = rsaKey.material else { return XCTFail("not RSA") }
        XCTAssertEqual(modulus.count, 256)
        XCTAssertGreaterThanOrEqual(modulus[0], 0x80, "a 2048-bit modulus fills its top byte")
        XCTAssertEqual(exponent, [0x01, 0x00, 0x01])
        XCTAssertEqual(ecKey.keyId, "ec-2026")
        XCTAssertEqual(ecKey.algorithm, "ES256")
        XCTAssertEqual(ecKey.keyType, .ecP256)
        guard case .ecP256(let x, let y) = ecKey.material else { return XCTFail("not EC") }
        XCTAssertEqual(x, Base64URL.decode("ZI003WOiVdem1hd0vfPg8a3uhQFrAGUqvgsOHpQWZAg"))
        XCTAssertEqual(y.count, 32)
    }

    func testKeysWithoutKidUseOrAlgAreKept() throws {
        let set = try set(#"{"kty":"EC","crv":"P-256","x":"ZI003WOiVdem1hd0vfPg8a3uhQFrAGUqvgsOHpQWZAg","y":"OG16pxRU0U8mz64bQAVgHqg4QQtNuOdLjAMxUTl2daI"}"#)
        XCTAssertEqual(set.keys.count, 1)
        XCTAssertNil(set.keys[0].keyId)
        XCTAssertNil(set.keys[0].use)
        XCTAssertNil(set.keys[0].algorithm)
    }

    func testUnsupportedKeyTypesAndCurvesAreSkippedWithAReason() throws {
        let set = try set(rsa,
                          #"{"kty":"oct","kid":"s1","k":"c2VjcmV0"}"#,
                          #"{"kty":"OKP","kid":"o1","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
                          #"{"kty":"EC","kid":"p384","crv":"P-384","x":"AA","y":"AA"}"#,
                          ec)
        XCTAssertEqual(set.keys.map(\.keyId), ["r1", "e1"])
        XCTAssertEqual(set.skipped, [
            "JWKS key 1 (kid 's1'): kty 'oct' is not supported (only RSA and EC)",
            "JWKS key 2 (kid 'o1'): kty 'OKP' is not supported (only RSA and EC)",
            "JWKS key 3 (kid 'p384'): curve 'P-384' is not supported (only P-256)",
        ])
    }

    func testKeysNotForSignaturesAreSkipped() throws {
        let set = try set(#"{"kty":"RSA","kid":"enc1","use":"enc","n":"AQAB","e":"AQAB"}"#,
                          #"{"kty":"RSA","kid":"ops1","key_ops":["encrypt","wrapKey"],"n":"AQAB","e":"AQAB"}"#,
                          #"{"kty":"RSA","kid":"ops2","key_ops":["sign","verify"],"n":"AQAB","e":"AQAB"}"#)
        XCTAssertEqual(set.keys.map(\.keyId), ["ops2"])
        XCTAssertEqual(set.skipped, [
            #"JWKS key 0 (kid 'enc1'): use 'enc' is not "sig""#,
            #"JWKS key 1 (kid 'ops1'): key_ops lacks "verify""#,
        ])
    }

    func testKeysWhoseAlgWeDoNotAcceptAreSkipped() throws {
        let set = try set(#"{"kty":"RSA","kid":"r384","alg":"RS384","n":"AQAB","e":"AQAB"}"#,
                          #"{"kty":"RSA","kid":"pss","alg":"PS256","n":"AQAB","e":"AQAB"}"#,
                          #"{"kty":"EC","kid":"e-rs","alg":"RS256","crv":"P-256","x":"ZI003WOiVdem1hd0vfPg8a3uhQFrAGUqvgsOHpQWZAg","y":"OG16pxRU0U8mz64bQAVgHqg4QQtNuOdLjAMxUTl2daI"}"#)
        XCTAssertEqual(set.keys, [])
        XCTAssertEqual(set.skipped, [
            "JWKS key 0 (kid 'r384'): alg 'RS384' is not accepted for an RSA key (only RS256)",
            "JWKS key 1 (kid 'pss'): alg 'PS256' is not accepted for an RSA key (only RS256)",
            "JWKS key 2 (kid 'e-rs'): alg 'RS256' is not accepted for an EC key (only ES256)",
        ])
    }

    func testAnEmptyKeyListIsAValidSetWithNoKeys() throws {
        XCTAssertEqual(try JSONWebKeySet(json: #"{"keys":[]}"#).keys, [])
    }

    func testTheDocumentMustBeAnObjectWithAKeysArray() {
        assertError(#"[{"kty":"RSA"}]"#, #"JWKS must be a JSON object with a "keys" array"#)
        assertError(#"{"keys":{"kty":"RSA"}}"#, #"JWKS has no "keys" array"#)
        assertError(#"{"key":[]}"#, #"JWKS has no "keys" array"#)
        assertError(#"{"keys":[]"#, "JWKS is not valid JSON: unexpected end of input at byte 10")
        assertError(#"{"keys":[7]}"#, "JWKS key 0 is not a JSON object")
    }

    func testAMalformedKeyOfASupportedTypeFailsTheDocument() {
        assertError(#"{"keys":[{"kty":"RSA","kid":"r1","e":"AQAB"}]}"#, "JWKS key 0 (kid 'r1') has no n")
        assertError(#"{"keys":[{"kty":"RSA","kid":"r1","n":"AQAB"}]}"#, "JWKS key 0 (kid 'r1') has no e")
        assertError(#"{"keys":[{"kty":"RSA","n":"AQAB","e":""}]}"#, "JWKS key 0 has an empty n or e")
        assertError(#"{"keys":[{"kty":"RSA","n":"AQ==","e":"AQAB"}]}"#, "JWKS key 0 n is not unpadded base64url")
        assertError(#"{"keys":[{"kty":"RSA","n":17,"e":"AQAB"}]}"#, "JWKS key 0 n is not a string")
        assertError(#"{"keys":[{"kid":"k"}]}"#, "JWKS key 0 (kid 'k') has no kty")
        assertError(#"{"keys":[{"kty":"RSA","kid":5}]}"#, "JWKS key 0 kid is not a string")
        assertError(#"{"keys":[{"kty":"RSA","kid":"r","key_ops":"verify"}]}"#, "JWKS key 0 (kid 'r') key_ops is not an array of strings")
        assertError(#"{"keys":[{"kty":"EC","kid":"e"}]}"#, "JWKS key 0 (kid 'e') has no crv")
    }

    func testECCoordinatesMustBeStrictBase64URLOfExactly32Bytes() {
        let y = "OG16pxRU0U8mz64bQAVgHqg4QQtNuOdLjAMxUTl2daI"
        assertError(#"{"keys":[{"kty":"EC","crv":"P-256","kid":"e","x":"ZI003WOiVdem1hd0vfPg8a3uhQFrAGUqvgsOHpQWZAg=","y":"\#(y)"}]}"#,
                    "JWKS key 0 (kid 'e') x is not unpadded base64url")
        assertError(#"{"keys":[{"kty":"EC","crv":"P-256","kid":"e","x":"ZI003WOiVdem1hd0vfPg8a3uhQFrAGUqvgsOHpQW+Ag","y":"\#(y)"}]}"#,
                    "JWKS key 0 (kid 'e') x is not unpadded base64url")
        let x31 = Base64URL.encode([UInt8](repeating: 9, count: 31))
        assertError(#"{"keys":[{"kty":"EC","crv":"P-256","kid":"e","x":"\#(x31)","y":"\#(y)"}]}"#,
                    "JWKS key 0 (kid 'e') x and y must be 32 bytes each for P-256 (got 31 and 32)")
        let y33 = Base64URL.encode([0] + Base64URL.decode(y)!)
        assertError(#"{"keys":[{"kty":"EC","crv":"P-256","kid":"e","x":"\#(y)","y":"\#(y33)"}]}"#,
                    "JWKS key 0 (kid 'e') x and y must be 32 bytes each for P-256 (got 32 and 33)")
        assertError(#"{"keys":[{"kty":"EC","crv":"P-256","kid":"e","y":"\#(y)"}]}"#, "JWKS key 0 (kid 'e') has no x")
    }

    /// A kid has to pick one key; two keys under one kid would leave it to document order.
    func testADuplicateKeyIdFailsTheDocument() {
        assertError(#"{"keys":[\#(rsa),\#(rsa)]}"#, "JWKS key id 'r1' appears more than once")
    }
}
