import CascadeDomain
import XCTest

/// The order TokenVerification fixes: nothing after a failed step is looked at, and the claims
/// are read only once the signature has verified.
final class TokenVerificationTests: XCTestCase {
    private func token(header: String, payload: String, signature: [UInt8]) -> String {
        "Bearer " + Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8)) + "." + Base64URL.encode(signature)
    }

    private let rsaKey = JSONWebKey(keyId: "k1", material: .rsa(modulus: [UInt8](repeating: 0xC5, count: 256), exponent: [1, 0, 1]))
    private let policy = TokenPolicy(issuer: "iss")

    private func verify(_ header: String?, signatureValid: Bool, calls: inout Int) -> Result<TokenGrant, TokenRejection> {
        var count = 0
        let result = TokenVerification.verify(authorization: header, keys: [rsaKey], hs256Configured: false, policy: policy,
                                              nowSeconds: 1_000_000) { _, _, _, _ in count += 1; return signatureValid }
        calls = count
        return result
    }

    func testAForgedTokenWhoseClaimsAreAlsoBadIsRefusedForItsSignature() {
        let expiredAndWrongIssuer = #"{"iss":"other","token_use":"id","exp":1}"#
        var calls = 0
        let result = verify(token(header: #"{"alg":"RS256","kid":"k1"}"#, payload: expiredAndWrongIssuer,
                                  signature: [UInt8](repeating: 1, count: 256)), signatureValid: false, calls: &calls)
        XCTAssertRejects(result, .badSignature)
        XCTAssertEqual(calls, 1)
    }

    func testTheSignatureIsNeverCheckedForNoneAWrongLengthOrAnUnknownKey() {
        var calls = 0
        let claims = #"{"iss":"iss","token_use":"access","exp":2000000,"scope":"streamline/complete_jobs"}"#
        for (header, signature) in [(#"{"alg":"none"}"#, [UInt8]()), (#"{"alg":"RS256","kid":"k1"}"#, [UInt8](repeating: 1, count: 255)),
                                    (#"{"alg":"RS256","kid":"k9"}"#, [UInt8](repeating: 1, count: 256)),
                                    (#"{"alg":"ES256","kid":"k1"}"#, [UInt8](repeating: 1, count: 64))] {
            let result = verify(token(header: header, payload: claims, signature: signature), signatureValid: true, calls: &calls)
            if case .success = result { XCTFail("\(header) accepted") }
            XCTAssertEqual(calls, 0, header)
        }
    }

    func testClaimsAreCheckedOnlyAfterAValidSignature() {
        var calls = 0
        let expired = #"{"iss":"iss","token_use":"access","exp":1,"scope":"streamline/complete_jobs"}"#
        let result = verify(token(header: #"{"alg":"RS256","kid":"k1"}"#, payload: expired, signature: [UInt8](repeating: 1, count: 256)),
                            signatureValid: true, calls: &calls)
        XCTAssertRejects(result, .expired(expiresAt: 1, now: 1_000_000))
        XCTAssertEqual(calls, 1)
    }
}
