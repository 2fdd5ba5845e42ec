/// The one order in which a bearer token is checked; every step must pass before the next one
/// looks at anything, and the claims are trusted only once the signature has verified:
/// 1. the header is `Bearer <token>`; 2. at most 8 KiB, three strict base64url segments, a JSON
/// header and payload; 3. `alg` on the allow-list (never `none`); 4. the key chosen by `kid`, of
/// the algorithm's type; 5. the signature's length, then the signature itself; 6. the claims.
/// The cryptography is the caller's (`signatureIsValid`), so this stays pure.
public enum TokenVerification {
    public typealias SignatureCheck = (_ algorithm: JWSAlgorithm, _ key: JSONWebKey?, _ signingInput: [UInt8],
                                       _ signature: [UInt8]) -> Bool

    public static func verify(authorization: String?, keys: [JSONWebKey], hs256Configured: Bool, policy: TokenPolicy,
                              nowSeconds: Int64, signatureIsValid: SignatureCheck) -> Result<TokenGrant, TokenRejection> {
        do throws(TokenRejection) {
            let jws = try CompactJWS.parse(try BearerHeader.token(in: authorization))
            let algorithm = try JWSAlgorithm.allowed(jws.algorithm, hs256Configured: hs256Configured).get()
            let key = try KeySelection.select(algorithm: algorithm, keyId: jws.keyId, keys: keys).get()
            try JWSAlgorithm.checkSignatureLength(jws.signature, algorithm: algorithm, key: key).get()
            guard signatureIsValid(algorithm, key, jws.signingInput, jws.signature) else { throw TokenRejection.badSignature }
            return policy.evaluate(jws.payload, nowSeconds: nowSeconds)
        } catch {
            return .failure(error)
        }
    }
}
