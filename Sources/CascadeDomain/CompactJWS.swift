/// A JWS in compact serialization (RFC 7515 §7.1), taken apart but NOT verified: nothing here
/// may be trusted until the signature over `signingInput` has been checked.
///
/// Only the shape is checked, in a fixed order, so each refusal names the first thing wrong:
/// size, then segment count, then each segment's encoding, then the header, then the payload.
/// The size comes first so that no decoding or parsing work is done on an oversized token.
public struct CompactJWS: Sendable {
    /// Cognito access tokens are about 1 KB and tokens with many groups a few KB; beyond this the
    /// caller is more likely probing the parser than authenticating.
    public static let maximumByteCount = 8192

    public let header: JSONValue
    public let payload: JSONValue
    /// The ASCII bytes of "<header>.<payload>", exactly as sent: the signature covers the
    /// encoded text, not the decoded JSON.
    public let signingInput: [UInt8]
    /// Empty for an unsecured (alg none) token; refusing that is the algorithm check's job.
    public let signature: [UInt8]
    public let algorithm: String
    public let keyId: String?

    public static func parse(_ token: String) throws(TokenRejection) -> CompactJWS {
        var token = token
        // withUTF8 rethrows untyped errors, so the typed one crosses it as a Result.
        return try token.withUTF8 { utf8 in Result { () throws(TokenRejection) in try parse(utf8: utf8) } }.get()
    }

    private static func parse(utf8: UnsafeBufferPointer<UInt8>) throws(TokenRejection) -> CompactJWS {
        guard utf8.count <= maximumByteCount else { throw .tokenTooLarge(byteCount: utf8.count) }
        // At most 8 KB to scan, so the whole count is cheap and the message exact.
        var dots: [Int] = []
        for (index, byte) in utf8.enumerated() where byte == UInt8(ascii: ".") { dots.append(index) }
        guard dots.count == 2 else { throw .notThreeSegments(segmentCount: dots.count + 1) }
        let headerText = UnsafeBufferPointer(rebasing: utf8[..<dots[0]])
        let payloadText = UnsafeBufferPointer(rebasing: utf8[(dots[0] + 1)..<dots[1]])
        let signatureText = UnsafeBufferPointer(rebasing: utf8[(dots[1] + 1)...])
        guard let headerBytes = Base64URL.decode(buffer: headerText) else { throw .badEncoding(.header) }
        guard let payloadBytes = Base64URL.decode(buffer: payloadText) else { throw .badEncoding(.payload) }
        guard let signature = Base64URL.decode(buffer: signatureText) else { throw .badEncoding(.signature) }

        let header: JSONValue
        do { header = try JSONParser.parse(headerBytes) } catch { throw .headerNotJSON(errorOffset: error.offset) }
        guard header.isObject else { throw .headerNotJSON(errorOffset: nil) }
        guard let algValue = header["alg"] else { throw .badHeader(.algMissing) }
        guard let algorithm = algValue.stringValue else { throw .badHeader(.algNotString) }
        var keyId: String?
        if let kidValue = header["kid"] {
            guard let kid = kidValue.stringValue else { throw .badHeader(.kidNotString) }
            keyId = kid
        }
        // RFC 7515 §4.1.11: a recipient must refuse extensions it does not understand, and we
        // understand none (b64=false, RFC 7797, would even change what the signature covers).
        // jku, x5u and jwk are ignored rather than refused: keys come only from our own JWKS.
        if header["crit"] != nil { throw .badHeader(.criticalExtensions) }

        let payload: JSONValue
        do { payload = try JSONParser.parse(payloadBytes) } catch { throw .payloadNotJSON(errorOffset: error.offset) }
        guard payload.isObject else { throw .payloadNotJSON(errorOffset: nil) }

        return CompactJWS(header: header, payload: payload, signingInput: Array(utf8[..<dots[1]]),
                          signature: signature, algorithm: algorithm, keyId: keyId)
    }
}
