import CascadeDomain
import Crypto
import Foundation

/// The demo's bearer tokens: HS256 with a secret made for this run (the development mode of
/// `--auth jwt`), shaped like the platform's machine tokens.
struct DemoTokens {
    static let issuer = "cascade-demo"
    let secret: [UInt8] = (0..<32).map { _ in UInt8.random(in: .min ... .max) }

    /// `Bearer <token>`, valid for an hour, or expired an hour ago.
    func header(expired: Bool = false) -> String {
        let now = Int64(Date().timeIntervalSince1970)
        let claims: JSONValue = .object([
            ("iss", .string(Self.issuer)), ("token_use", .string("access")), ("client_id", .string("demo-handler")),
            ("scope", .string("streamline/complete_jobs")), ("iat", .number(String(now - (expired ? 7200 : 0)))),
            ("exp", .number(String(now + (expired ? -3600 : 3600)))),
        ])
        let input = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8)) + "." + Base64URL.encode(Array(claims.description.utf8))
        return "Bearer " + input + "." + Base64URL.encode(HMACSHA256.authenticationCode(key: secret, message: Array(input.utf8)))
    }
}
