import CascadeDomain

/// The bearer-token path before and after the signature: BearerHeader.token, CompactJWS.parse,
/// then TokenVerification.verify with a signature check that always passes, so the fuzzer also
/// reaches key selection and the claims policy. The input is the Authorization header value;
/// bytes that are not UTF-8 never reach the verifier (RawReport.header drops them).
///
/// Beyond not crashing:
/// - an accepted header is "Bearer" in any case, one space, and a token with no whitespace or
///   control byte;
/// - a parsed JWS signs exactly the text before the second dot, and each of its segments is
///   the one canonical base64url spelling of its bytes (Base64URL's promise: one token text
///   per token, or caches and replay checks keyed on the text are defeated);
/// - base64url round-trips any bytes;
/// - a refusal's message carries no control character and never repeats the credential.
func fuzzJWT(_ data: UnsafeRawBufferPointer) {
    let bytes = Array(data)
    require(Base64URL.decode(Base64URL.encode(bytes)) == bytes, "base64url does not round-trip \(bytes.count) bytes")
    guard let header = String(validating: bytes, as: UTF8.self) else { return }

    if let token = try? BearerHeader.token(in: header) {
        require(header.utf8.count == token.utf8.count + 7 && header.utf8.dropFirst(7).elementsEqual(token.utf8)
                && header.utf8.prefix(7).map { $0 | 0x20 }.elementsEqual("bearer ".utf8),
                "accepted header is not 'Bearer <token>': \(show(header.utf8))")
        require(!token.utf8.contains { $0 <= 0x20 || $0 == 0x7F }, "whitespace or control byte in an accepted token")
        if let jws = try? CompactJWS.parse(token) { checkParsed(jws, token) }
    }

    let keys = makeKeys()
    for (policy, hs256) in [(openPolicy, true), (listedClientPolicy, false)] {
        let outcome = TokenVerification.verify(authorization: header, keys: keys, hs256Configured: hs256, policy: policy,
                                               nowSeconds: now, signatureIsValid: { _, _, _, _ in true })
        switch outcome {
        case .success(let grant):
            require(grant.expiresAt >= now - max(0, policy.leewaySeconds), "granted with an expired token")
        case .failure(let rejection):
            let message = rejection.message
            _ = (rejection.reason, rejection.isForbidden)
            require(!message.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F },
                    "control character in the message: \(message.debugDescription)")
            if let space = header.utf8.firstIndex(of: UInt8(ascii: " ")) {
                let credential = String(header[header.utf8.index(after: space)...])
                // Bytes, not String.contains: Foundation's (visible through CascadeDomain) stops at a NUL.
                require(credential.utf8.count < 24 || message.utf8.firstRange(of: credential.utf8) == nil,
                        "the message repeats the credential")
            }
        }
    }
}

private func checkParsed(_ jws: CompactJWS, _ token: String) {
    let text = Array(token.utf8)
    let segments = text.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
    require(segments.count == 3, "parsed a token of \(segments.count) segments")
    require(jws.signingInput == Array(text[..<(segments[0].count + 1 + segments[1].count)]), "signing input")
    for segment in segments {
        guard let decoded = Base64URL.decode(segment) else { fatalError("invariant broken: a parsed segment does not decode") }
        require(Base64URL.encode(decoded).utf8.elementsEqual(segment), "segment \(show(segment)) is not the canonical spelling")
    }
    require(Base64URL.encode(jws.signature).utf8.elementsEqual(segments[2]), "signature")
    require(jws.header.isObject && jws.payload.isObject, "header or payload not an object")
    require(jws.header["alg"] == .string(jws.algorithm), "algorithm is not the header's alg")
    require(jws.keyId.map { jws.header["kid"] == .string($0) } ?? (jws.header["kid"] == nil), "keyId is not the header's kid")
    require(text.count <= CompactJWS.maximumByteCount, "parsed a token over the size limit")
}

private let now: Int64 = 1_700_000_000

private let openPolicy = TokenPolicy(issuer: "https://issuer.example")
private let listedClientPolicy = TokenPolicy(issuer: "https://issuer.example", clientIds: ["client-a"], leewaySeconds: 0)

/// One RSA key with a kid; two EC keys (one without a kid), so a kid-less ES256 token is ambiguous.
/// Made per input, not held in a global: `JSONWebKey.Material` is a multi-payload enum, and
/// Swift keeps its case in the spare bits of the payload's pointer, which LeakSanitizer then
/// does not recognise, so a global's EC key arrays were reported as leaked.
private func makeKeys() -> [JSONWebKey] { [
    JSONWebKey(keyId: "rsa-1", material: .rsa(modulus: [0x00] + [UInt8](repeating: 0xC5, count: 256), exponent: [1, 0, 1])),
    JSONWebKey(keyId: "ec-1", material: .ecP256(x: [UInt8](repeating: 1, count: 32), y: [UInt8](repeating: 2, count: 32))),
    JSONWebKey(keyId: nil, material: .ecP256(x: [UInt8](repeating: 3, count: 32), y: [UInt8](repeating: 4, count: 32))),
] }
