import CascadeDomain
import XCTest

final class JWSAlgorithmTests: XCTestCase {
    func testNoneIsRefusedInEveryCasingWithItsOwnMessage() {
        for alg in ["none", "None", "NONE", "nOnE"] {
            for secret in [false, true] {
                XCTAssertRejects(JWSAlgorithm.allowed(alg, hs256Configured: secret), .algorithmNotAllowed(.unsecured), alg)
            }
        }
        XCTAssertEqual(TokenRejection.algorithmNotAllowed(.unsecured).message, "token signed with alg none, which is never accepted")
    }

    func testRS256AndES256AreAlwaysAllowed() {
        XCTAssertEqual(try JWSAlgorithm.allowed("RS256", hs256Configured: false).get(), .rs256)
        XCTAssertEqual(try JWSAlgorithm.allowed("ES256", hs256Configured: false).get(), .es256)
        XCTAssertEqual(try JWSAlgorithm.allowed("ES256", hs256Configured: true).get(), .es256)
    }

    func testHS256OnlyWithAConfiguredSecret() {
        XCTAssertEqual(try JWSAlgorithm.allowed("HS256", hs256Configured: true).get(), .hs256)
        XCTAssertRejects(JWSAlgorithm.allowed("HS256", hs256Configured: false), .algorithmNotAllowed(.hs256WithoutSecret))
    }

    /// Names are case-sensitive, and near misses ("none " or "RS256 ") are not names we accept.
    func testEverythingElseIsRefusedByName() {
        for alg in ["rs256", "Rs256", "RS384", "RS512", "PS256", "ES384", "ES256K", "EdDSA", "HS512", "", "none ", "RS256 ", "dir"] {
            XCTAssertRejects(JWSAlgorithm.allowed(alg, hs256Configured: true), .algorithmNotAllowed(.unsupported(alg)), alg)
        }
    }

    func testEachAlgorithmIsBoundToOneKindOfKey() {
        XCTAssertEqual(JWSAlgorithm.rs256.keyType, .rsa)
        XCTAssertEqual(JWSAlgorithm.es256.keyType, .ecP256)
        XCTAssertNil(JWSAlgorithm.hs256.keyType, "HS256 never takes a key from the JWKS")
    }

    func testES256SignaturesMustBeExactlySixtyFourBytes() {
        for count in [0, 63, 65, 70, 71, 72] {
            XCTAssertRejects(JWSAlgorithm.checkSignatureLength(Array(repeating: 1, count: count), algorithm: .es256, key: nil),
                             .signatureLength(algorithm: .es256, byteCount: count, required: 64), "\(count)")
        }
        XCTAssertNoThrow(try JWSAlgorithm.checkSignatureLength(Array(repeating: 1, count: 64), algorithm: .es256, key: nil).get())
        XCTAssertEqual(TokenRejection.signatureLength(algorithm: .es256, byteCount: 72, required: 64).message,
                       "ES256 signature is 72 bytes; 64 are required")
    }

    func testHS256SignaturesAreOneSHA256Output() {
        XCTAssertNoThrow(try JWSAlgorithm.checkSignatureLength(Array(repeating: 1, count: 32), algorithm: .hs256, key: nil).get())
        XCTAssertRejects(JWSAlgorithm.checkSignatureLength([], algorithm: .hs256, key: nil),
                         .signatureLength(algorithm: .hs256, byteCount: 0, required: 32))
    }

    /// RSA signatures are as long as the modulus; a leading zero byte in the JWK's n does not count.
    func testRS256SignaturesAreAsLongAsTheModulus() {
        let key = JSONWebKey(keyId: "r", material: .rsa(modulus: [0xC1] + Array(repeating: 5, count: 255), exponent: [1, 0, 1]))
        let padded = JSONWebKey(keyId: "r", material: .rsa(modulus: [0, 0xC1] + Array(repeating: 5, count: 255), exponent: [1, 0, 1]))
        for candidate in [key, padded] {
            XCTAssertNoThrow(try JWSAlgorithm.checkSignatureLength(Array(repeating: 1, count: 256), algorithm: .rs256, key: candidate).get())
            XCTAssertRejects(JWSAlgorithm.checkSignatureLength(Array(repeating: 1, count: 255), algorithm: .rs256, key: candidate),
                             .signatureLength(algorithm: .rs256, byteCount: 255, required: 256))
            XCTAssertRejects(JWSAlgorithm.checkSignatureLength(Array(repeating: 1, count: 257), algorithm: .rs256, key: candidate),
                             .signatureLength(algorithm: .rs256, byteCount: 257, required: 256))
        }
    }
}

final class KeySelectionTests: XCTestCase {
    private let rsa1 = JSONWebKey(keyId: "rsa-1", material: .rsa(modulus: Array(repeating: 0xAB, count: 256), exponent: [1, 0, 1]))
    private let rsa2 = JSONWebKey(keyId: "rsa-2", material: .rsa(modulus: Array(repeating: 0xCD, count: 256), exponent: [3]))
    private let ec1 = JSONWebKey(keyId: "ec-1", material: .ecP256(x: Array(repeating: 1, count: 32), y: Array(repeating: 2, count: 32)))

    func testAKidPicksItsKey() {
        XCTAssertEqual(try KeySelection.select(algorithm: .rs256, keyId: "rsa-2", keys: [rsa1, rsa2, ec1]).get(), rsa2)
        XCTAssertEqual(try KeySelection.select(algorithm: .es256, keyId: "ec-1", keys: [rsa1, rsa2, ec1]).get(), ec1)
    }

    func testAnUnknownKidIsRefused() {
        XCTAssertRejects(KeySelection.select(algorithm: .rs256, keyId: "k9", keys: [rsa1, ec1]), .unknownKey(keyId: "k9"))
        XCTAssertEqual(TokenRejection.unknownKey(keyId: "k9").message, "token's key id 'k9' is not in the key set")
    }

    func testAKidNamingAKeyOfTheWrongTypeIsAMismatchNotAFallBack() {
        XCTAssertRejects(KeySelection.select(algorithm: .rs256, keyId: "ec-1", keys: [rsa1, ec1]),
                         .keyTypeMismatch(keyId: "ec-1", algorithm: .rs256, found: .ecP256))
        XCTAssertRejects(KeySelection.select(algorithm: .es256, keyId: "rsa-1", keys: [rsa1, ec1]),
                         .keyTypeMismatch(keyId: "rsa-1", algorithm: .es256, found: .rsa))
        XCTAssertEqual(TokenRejection.keyTypeMismatch(keyId: "ec-1", algorithm: .rs256, found: .ecP256).message,
                       "token's key id 'ec-1' names an EC P-256 key, but RS256 needs an RSA key")
    }

    /// The algorithm-confusion attack: an RS256 public key re-labelled as an HS256 secret.
    func testHS256NeverSelectsAJWKSKeyEvenWhenItsKidMatches() {
        XCTAssertNil(try KeySelection.select(algorithm: .hs256, keyId: "rsa-1", keys: [rsa1, ec1]).get())
        XCTAssertNil(try KeySelection.select(algorithm: .hs256, keyId: nil, keys: [rsa1]).get())
    }

    func testWithoutAKidTheOnlyKeyOfTheRightTypeIsChosen() {
        XCTAssertEqual(try KeySelection.select(algorithm: .rs256, keyId: nil, keys: [rsa1, ec1]).get(), rsa1)
        XCTAssertEqual(try KeySelection.select(algorithm: .es256, keyId: nil, keys: [rsa1, ec1]).get(), ec1)
        let keyless = JSONWebKey(keyId: nil, material: rsa1.material)
        XCTAssertEqual(try KeySelection.select(algorithm: .rs256, keyId: nil, keys: [keyless]).get(), keyless)
    }

    func testWithoutAKidTwoCandidatesOrNoneAreRefused() {
        XCTAssertRejects(KeySelection.select(algorithm: .rs256, keyId: nil, keys: [rsa1, rsa2, ec1]),
                         .noKeyId(algorithm: .rs256, candidateCount: 2))
        XCTAssertRejects(KeySelection.select(algorithm: .es256, keyId: nil, keys: [rsa1, rsa2]),
                         .noKeyId(algorithm: .es256, candidateCount: 0))
        XCTAssertRejects(KeySelection.select(algorithm: .rs256, keyId: nil, keys: []), .noKeyId(algorithm: .rs256, candidateCount: 0))
        XCTAssertEqual(TokenRejection.noKeyId(algorithm: .rs256, candidateCount: 2).message,
                       "token has no key id, and the key set holds 2 RSA keys for RS256; a key id is needed to choose")
        XCTAssertEqual(TokenRejection.noKeyId(algorithm: .es256, candidateCount: 0).message,
                       "token has no key id, and the key set holds no EC P-256 key for ES256")
    }

    func testAKeyWithoutAKidNeverMatchesATokenThatHasOne() {
        let keyless = JSONWebKey(keyId: nil, material: rsa1.material)
        XCTAssertRejects(KeySelection.select(algorithm: .rs256, keyId: "rsa-1", keys: [keyless]), .unknownKey(keyId: "rsa-1"))
    }

    func testTheRealFixtureTokensSelectTheirKeysAndPassTheLengthCheck() throws {
        let keys = try JWTFixtures.keySet().keys
        for (token, kid) in [(JWTFixtures.rs256Token, "rsa-2026"), (JWTFixtures.es256Token, "ec-2026")] {
            let result = JWTFixtures.firstRejection(authorization: "Bearer \(token)", keys: keys)
            XCTAssertEqual(try result.get(), TokenGrant(expiresAt: JWTFixtures.expiresAt, subject: "3f1c-worker",
                                                        clientId: "worker-client", basis: .scope), kid)
        }
    }
}
