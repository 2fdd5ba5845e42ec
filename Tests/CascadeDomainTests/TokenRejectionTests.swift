import CascadeDomain
import XCTest

final class TokenRejectionTests: XCTestCase {
    private typealias F = JWTFixtures

    /// One of each case, with the label it must carry.
    private let everyCase: [(TokenRejection, String)] = [
        (.missing, "missing"), (.notBearer(knownScheme: "Basic"), "not_bearer"), (.badBearerSyntax(.emptyToken), "malformed"),
        (.tokenTooLarge(byteCount: 9000), "too_large"), (.notThreeSegments(segmentCount: 2), "malformed"),
        (.badEncoding(.payload), "bad_encoding"), (.headerNotJSON(errorOffset: 3), "malformed"), (.badHeader(.algMissing), "bad_header"),
        (.payloadNotJSON(errorOffset: nil), "malformed"), (.algorithmNotAllowed(.unsecured), "algorithm_not_allowed"),
        (.unknownKey(keyId: "k9"), "unknown_key"), (.noKeyId(algorithm: .rs256, candidateCount: 2), "unknown_key"),
        (.keyTypeMismatch(keyId: "e", algorithm: .rs256, found: .ecP256), "key_type_mismatch"),
        (.signatureLength(algorithm: .es256, byteCount: 63, required: 64), "bad_signature"), (.badSignature, "bad_signature"),
        (.badClaims(claim: "exp", problem: .missing), "bad_claims"), (.expired(expiresAt: 1, now: 2), "expired"),
        (.notYetValid(notBefore: 2, now: 1), "not_yet_valid"), (.issuedInFuture(issuedAt: 2, now: 1), "issued_in_future"),
        (.wrongIssuer("x"), "wrong_issuer"), (.wrongTokenUse("id"), "wrong_token_use"),
        (.clientNotAllowed(clientId: "c"), "client_not_allowed"), (.insufficientScope(required: "s"), "insufficient_scope"),
    ]

    func testEveryCaseHasItsReasonLabel() {
        for (rejection, reason) in everyCase { XCTAssertEqual(rejection.reason, reason, "\(rejection)") }
    }

    func testOnlyInsufficientScopeIsForbidden() {
        XCTAssertEqual(everyCase.map(\.0).filter(\.isForbidden), [.insufficientScope(required: "s")])
    }

    func testTimesAreWrittenInRFC3339UTC() {
        XCTAssertEqual(TokenRejection.expired(expiresAt: F.expiresAt, now: F.expiresAt + 61).message,
                       "token expired at 2026-12-03T11:00:00.000Z (now 2026-12-03T11:01:01.000Z)")
        XCTAssertEqual(TokenRejection.notYetValid(notBefore: 0, now: 86_399).message,
                       "token is not valid before 1970-01-01T00:00:00.000Z (now 1970-01-01T23:59:59.000Z)")
        XCTAssertEqual(TokenRejection.issuedInFuture(issuedAt: 253_402_300_799, now: 951_782_400).message,
                       "token issued at 9999-12-31T23:59:59.000Z, in the future (now 2000-02-29T00:00:00.000Z)")
    }

    /// The clock's `now` is not range-checked like a claim; formatting it must not trap.
    func testInstantsBeyondFourDigitYearsAreWrittenAsSeconds() {
        XCTAssertEqual(TokenRejection.expired(expiresAt: 0, now: .max).message,
                       "token expired at 1970-01-01T00:00:00.000Z (now 9223372036854775807 s since 1970)")
        XCTAssertTrue(TokenRejection.notYetValid(notBefore: 5, now: .min).message.hasSuffix("(now -9223372036854775808 s since 1970)"))
    }

    func testQuotedValuesAreCutAndCannotForgeLogLines() {
        let long = String(repeating: "k", count: 64) + "MARKER"
        XCTAssertEqual(TokenRejection.unknownKey(keyId: long).message,
                       "token's key id '\(String(repeating: "k", count: 64))…' is not in the key set")
        XCTAssertEqual(TokenRejection.wrongIssuer("a\nlevel=info msg=ok\r\u{7F}").message,
                       "token issuer 'a?level=info msg=ok??' is not the configured issuer")
        XCTAssertEqual(TokenRejection.wrongIssuer("a\u{85}b\u{9F}c\u{A0}").message, "token issuer 'a?b?c\u{A0}' is not the configured issuer",
                       "C1 controls too (NEXT LINE ends a line for some readers); a no-break space is text")
        XCTAssertEqual(TokenRejection.unknownKey(keyId: String(repeating: "é", count: 64)).message.count,
                       "token's key id '' is not in the key set".count + 64)
    }

    /// Every refusal a token can draw, from a token that carries a marker in its payload (and,
    /// for the too-long kid, in its header): no message repeats the token, a segment of it or
    /// the marker.
    func testNoMessageRepeatsTheTokenOrItsPayload() throws {
        let marker = "MARKER-5e1f"
        let keys = try F.keySet().keys
        let payload = F.claims(["note": .string(marker), "sub": .string(marker)])
        func token(_ header: String = F.rs256Header, _ claims: JSONValue = payload, signature: Int = 256) -> String {
            F.token(header: header, payload: claims.description, signature: Array(repeating: 9, count: signature))
        }
        func with(_ changes: KeyValuePairs<String, JSONValue>) -> JSONValue {
            var members = payload.objectMembers!
            for (key, value) in changes { members.removeAll { $0.key == key }; members.append((key, value)) }
            return .object(members)
        }
        let good = token()
        let segments = good.split(separator: ".").map(String.init)
        var listed = F.policy
        listed.clientIds = ["someone"]
        let cases: [(String, String?, Bool, TokenPolicy)] = [
            ("bare token", good, false, F.policy),
            ("other scheme", "Token \(good)", false, F.policy),
            ("space inside", "Bearer \(segments[0]).\(segments[1]) .\(segments[2])", false, F.policy),
            ("too large", "Bearer \(token(F.rs256Header, with(["pad": .string(String(repeating: marker, count: 900))])))", false, F.policy),
            ("four segments", "Bearer \(good).\(segments[1])", false, F.policy),
            ("padded payload", "Bearer \(segments[0]).\(segments[1])=.\(segments[2])", false, F.policy),
            ("payload not JSON", "Bearer \(segments[0]).\(F.segment(String(payload.description.dropLast()))).\(segments[2])", false, F.policy),
            ("duplicate key", "Bearer \(segments[0]).\(F.segment("{\"\(marker)\":1,\"\(marker)\":2}")).\(segments[2])", false, F.policy),
            ("header not JSON", "Bearer \(F.segment("{\(marker)}")).\(segments[1]).\(segments[2])", false, F.policy),
            ("alg none", "Bearer \(token(#"{"alg":"none"}"#, signature: 0))", false, F.policy),
            ("alg unsupported", "Bearer \(token(#"{"alg":"RS512","kid":"rsa-2026"}"#))", false, F.policy),
            ("HS256 unconfigured", "Bearer \(token(#"{"alg":"HS256"}"#, signature: 32))", false, F.policy),
            ("long kid", "Bearer \(token(#"{"alg":"RS256","kid":"\#(String(repeating: "k", count: 70))\#(marker)"}"#))", false, F.policy),
            ("key type", "Bearer \(token(#"{"alg":"RS256","kid":"ec-2026"}"#))", false, F.policy),
            ("signature length", "Bearer \(token(signature: 255))", false, F.policy),
            ("bad claim type", "Bearer \(token(F.rs256Header, with(["exp": .string(marker)])))", false, F.policy),
            ("expired", "Bearer \(token(F.rs256Header, with(["exp": .int(F.now - 3600)])))", false, F.policy),
            ("not yet valid", "Bearer \(token(F.rs256Header, with(["nbf": .int(F.now + 3600)])))", false, F.policy),
            ("issued in future", "Bearer \(token(F.rs256Header, with(["iat": .int(F.now + 3600)])))", false, F.policy),
            ("issuer", "Bearer \(token(F.rs256Header, with(["iss": "https://other"])))", false, F.policy),
            ("token use", "Bearer \(token(F.rs256Header, with(["token_use": "id"])))", false, F.policy),
            ("client", "Bearer \(good)", false, listed),
            ("scope", "Bearer \(token(F.rs256Header, with(["scope": "openid"])))", false, F.policy),
        ]
        var reasons: Set<String> = []
        for (name, header, hs256, policy) in cases {
            let result = F.firstRejection(authorization: header, keys: keys, hs256Configured: hs256, policy: policy)
            guard case .failure(let rejection) = result else { XCTFail("\(name) was accepted"); continue }
            reasons.insert(rejection.reason)
            let message = rejection.message
            XCTAssertFalse(message.contains(marker), "\(name): \(message)")
            XCTAssertFalse(message.contains(good), name)
            for segment in segments where message.contains(segment) { XCTFail("\(name) repeats a segment: \(message)") }
        }
        // Guards against a vacuous pass: the cases reach every stage, not just the first.
        XCTAssertEqual(reasons, ["not_bearer", "malformed", "too_large", "bad_encoding", "algorithm_not_allowed", "unknown_key",
                                 "key_type_mismatch", "bad_signature", "bad_claims", "expired", "not_yet_valid", "issued_in_future",
                                 "wrong_issuer", "wrong_token_use", "client_not_allowed", "insufficient_scope"])
    }
}
