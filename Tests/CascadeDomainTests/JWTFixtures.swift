import CascadeDomain
import XCTest

/// Real material made once with PyJWT 2.15 and cryptography 50 (RSA-2048 and P-256 keys, private
/// halves discarded): the JWKS as `RSAAlgorithm.to_jwk` / `ECAlgorithm.to_jwk` write it, and
/// tokens that `jwt.encode` signed with those keys. Claims are Cognito-shaped.
enum JWTFixtures {
    static let jwks = #"{"keys":[{"kty":"RSA","key_ops":["verify"],"n":"vNnVQr5nXew0_P-rlM5bhUyCCbEJwcIKzN_rygdFuxaiPQRR66rF9uXjIWt-DVzWnszszvK0Olcu8Y8_gbzWaqRnDw3vpuOwQasinaRjvf6m4fzQorIoOH7MApX_3bxQpbMAoMLp33mdbDsnxxIkneQNiQMKe59fifCbwRLrSc7fk9wERApea8iYPIYzu5RzsSYb2G1DwzH0u_drFCCY-fz1qTum2nnIyHDF10gcoSUnjBwFJF_aYti2wb6nGKUI6DPBDrBOYISOTzFPDUlLyD5NQCKNhCpFaQSv9B7yJ5H3AGua-FfgreTK9jNWpa3YhXBLaWfbMJjszzqRq-xSYw","e":"AQAB","kid":"rsa-2026","use":"sig","alg":"RS256"},{"kty":"EC","crv":"P-256","x":"ZI003WOiVdem1hd0vfPg8a3uhQFrAGUqvgsOHpQWZAg","y":"OG16pxRU0U8mz64bQAVgHqg4QQtNuOdLjAMxUTl2daI","kid":"ec-2026","use":"sig","alg":"ES256"}]}"#

    static let rs256Token = "eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYS0yMDI2IiwidHlwIjoiSldUIn0.eyJzdWIiOiIzZjFjLXdvcmtlciIsImlzcyI6Imh0dHBzOi8vY29nbml0by1pZHAuZXUtd2VzdC0xLmFtYXpvbmF3cy5jb20vZXUtd2VzdC0xX0V4YW1wbGUiLCJjbGllbnRfaWQiOiJ3b3JrZXItY2xpZW50IiwidG9rZW5fdXNlIjoiYWNjZXNzIiwic2NvcGUiOiJzdHJlYW1saW5lL2NvbXBsZXRlX2pvYnMiLCJpYXQiOjE3OTYyOTIwMDAsImV4cCI6MTc5NjI5NTYwMH0.Xl4IUzVmjzrTsDjDQWv5pC5J9dDRI5Y6sZJA5OQ-xlVYwj-2JCQIShLIx8L3iivM_nE2p_GyGbFzzgaAPRbs5MO84iA_deB5_5bjoQC-N3bunwtmt4vS7-2p7KfCLNm5PzSDrUwne0rF7xNCPbgh1kNojKou8iCFhnwT8C06GS5K3aFmn_QcPYGz88EUZQJvCPPEFARWMtvSa3JMgcqcqjbZtC92cHE-C3p4QQ4ge_aAcYTt4e8zpFl0c200HzTDprxyaDthumPAkL9tiG3ycCqDDQNrJUqtoqm_ENXCO0-t0kT5dpmsWxxLrsIsvKzl0-JvAxoNahwHcv-JlsTbkg"

    static let es256Token = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjLTIwMjYiLCJ0eXAiOiJKV1QifQ.eyJzdWIiOiIzZjFjLXdvcmtlciIsImlzcyI6Imh0dHBzOi8vY29nbml0by1pZHAuZXUtd2VzdC0xLmFtYXpvbmF3cy5jb20vZXUtd2VzdC0xX0V4YW1wbGUiLCJjbGllbnRfaWQiOiJ3b3JrZXItY2xpZW50IiwidG9rZW5fdXNlIjoiYWNjZXNzIiwic2NvcGUiOiJzdHJlYW1saW5lL2NvbXBsZXRlX2pvYnMiLCJpYXQiOjE3OTYyOTIwMDAsImV4cCI6MTc5NjI5NTYwMH0.F2-VYk1TAlpQQ_DWdz1oVaGGsHTdVcREwQGE8yiOG41i2rQvYVAlFX3w76Xfgur_InZfOhAD3Opo02nCC_NRTw"

    static let issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example"
    /// 2026-12-03T11:00:00Z, the fixture tokens' exp.
    static let expiresAt: Int64 = 1_796_295_600
    /// 2026-12-03T10:00:00Z, the fixture tokens' iat.
    static let issuedAt: Int64 = 1_796_292_000
    static let now: Int64 = issuedAt + 100

    static let policy = TokenPolicy(issuer: issuer)

    /// The payload of the fixture tokens, with some claims replaced or removed.
    static func claims(_ changes: KeyValuePairs<String, JSONValue> = [:], removing removed: Set<String> = []) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("sub", "3f1c-worker"), ("iss", .string(issuer)), ("client_id", "worker-client"), ("token_use", "access"),
            ("scope", "streamline/complete_jobs"), ("iat", .int(issuedAt)), ("exp", .int(expiresAt)),
        ]
        members.removeAll { removed.contains($0.key) }
        for (key, value) in changes {
            if let index = members.firstIndex(where: { $0.key == key }) { members[index].value = value } else { members.append((key, value)) }
        }
        return .object(members)
    }

    static func segment(_ json: String) -> String { Base64URL.encode(Array(json.utf8)) }

    static let rs256Header = #"{"alg":"RS256","kid":"rsa-2026"}"#

    /// A token whose segments encode these texts; the signature is not a real one.
    static func token(header: String = rs256Header, payload: String = claims().description,
                      signature: [UInt8] = Array(repeating: 7, count: 256)) -> String {
        "\(segment(header)).\(segment(payload)).\(Base64URL.encode(signature))"
    }

    static func keySet() throws -> JSONWebKeySet { try JSONWebKeySet(json: jwks) }

    /// Every pure step, in the order the verifier runs them. The signature itself is not checked
    /// here (that is the crypto layer's job), so the policy runs on the strength of the length check.
    static func firstRejection(authorization: String?, keys: [JSONWebKey], hs256Configured: Bool = false,
                               policy: TokenPolicy = JWTFixtures.policy, now: Int64 = JWTFixtures.now) -> Result<TokenGrant, TokenRejection> {
        do throws(TokenRejection) {
            let jws = try CompactJWS.parse(try BearerHeader.token(in: authorization))
            let algorithm = try JWSAlgorithm.allowed(jws.algorithm, hs256Configured: hs256Configured).get()
            let key = try KeySelection.select(algorithm: algorithm, keyId: jws.keyId, keys: keys).get()
            try JWSAlgorithm.checkSignatureLength(jws.signature, algorithm: algorithm, key: key).get()
            return policy.evaluate(jws.payload, nowSeconds: now)
        } catch {
            return .failure(error)
        }
    }
}

func XCTAssertRejects<T>(_ result: Result<T, TokenRejection>, _ expected: TokenRejection, _ message: String = "",
                         file: StaticString = #filePath, line: UInt = #line) {
    switch result {
    case .success(let value): XCTFail("expected \(expected), got success \(value) \(message)", file: file, line: line)
    case .failure(let rejection): XCTAssertEqual(rejection, expected, message, file: file, line: line)
    }
}

func XCTAssertThrowsRejection<T>(_ body: @autoclosure () throws(TokenRejection) -> T, _ expected: TokenRejection,
                                 _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    do {
        let value = try body()
        XCTFail("expected \(expected), got a \(type(of: value)) \(message)", file: file, line: line)
    } catch {
        XCTAssertEqual(error, expected, message, file: file, line: line)
    }
}
