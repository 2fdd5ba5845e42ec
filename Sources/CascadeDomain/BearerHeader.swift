/// The token in an `Authorization: Bearer <token>` header value (RFC 6750 §2.1).
///
/// The scheme is matched without regard to case (RFC 7235 §2.1), followed by exactly one space
/// and a non-empty token with no whitespace. Anything looser would let two spellings of one
/// header reach the verifier, and "Bearer  x" is far more often a client bug than intent.
public enum BearerHeader {
    public static func token(in header: String?) throws(TokenRejection) -> String {
        guard let header, !header.isEmpty else { throw .missing }
        guard let space = header.utf8.firstIndex(of: UInt8(ascii: " ")) else {
            // "Bearer" alone is a bearer header with nothing in it; any other lone word may be a
            // credential sent without a scheme, so it is not repeated back.
            if isBearer(header[...]) { throw .badBearerSyntax(.emptyToken) }
            throw .notBearer(knownScheme: nil)
        }
        let scheme = header[..<space]
        guard isBearer(scheme) else { throw .notBearer(knownScheme: knownScheme(scheme)) }
        let token = header[header.utf8.index(after: space)...]
        guard let first = token.utf8.first else { throw .badBearerSyntax(.emptyToken) }
        if isWhitespace(first) { throw .badBearerSyntax(.notOneSpace) }
        if token.utf8.contains(where: isWhitespace) { throw .badBearerSyntax(.whitespaceInToken) }
        return String(token)
    }

    private static func isBearer(_ scheme: Substring) -> Bool {
        scheme.utf8.count == 6 && scheme.utf8.elementsEqual("bearer".utf8) { a, b in a | 0x20 == b }
    }

    /// Control characters count too: none may appear in a token68 (RFC 7235 §2.1).
    private static func isWhitespace(_ byte: UInt8) -> Bool { byte <= 0x20 || byte == 0x7F }

    /// Schemes safe to name in a message: standard words, never a credential.
    private static let knownSchemes = ["Basic", "Digest", "Negotiate", "NTLM", "HOBA", "Mutual", "AWS4-HMAC-SHA256", "DPoP"]

    private static func knownScheme(_ scheme: Substring) -> String? {
        knownSchemes.first { $0.lowercased() == scheme.lowercased() }
    }
}
