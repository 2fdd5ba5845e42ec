import CascadeDomain
import CascadeService
import Foundation

/// `consume --auth jwt|tokens|none` and the options of each mode. The mode has no default: a
/// consumer that accepts every report must have been asked to.
enum AuthOptions {
    static let all: [OptionSpec] = [
        .value("auth", "MODE", "who may complete jobs: jwt (the platform's tokens), tokens (a static file, development), none (everyone); required",
               env: "CASCADE_AUTH"),
        .value("jwks", "FILE", "--auth jwt: the identity provider's JSON Web Key Set; re-read when it changes and on SIGHUP",
               env: "CASCADE_JWKS_FILE"),
        .value("issuer", "URL", "--auth jwt: the tokens' iss, matched exactly", env: "CASCADE_JWT_ISSUER"),
        .value("client-ids", "IDS", "--auth jwt: comma-separated client_id allow-list; empty allows any", env: "CASCADE_JWT_CLIENT_IDS"),
        .value("required-scope", "SCOPE", "--auth jwt: the scope a token needs (streamline/admin and the admin group always do)",
               env: "CASCADE_JWT_REQUIRED_SCOPE", default: "streamline/complete_jobs"),
        .value("leeway", "SECONDS", "--auth jwt: clock skew allowed for exp, nbf and iat", env: "CASCADE_JWT_LEEWAY", default: "60"),
        .value("hs256-secret-file", "FILE", "--auth jwt: also accept HS256 tokens signed with this secret (development only)",
               env: "CASCADE_JWT_HS256_SECRET_FILE"),
        .value("auth-tokens", "FILE", "--auth tokens: JSON {token: [model ids] or \"*\"}", env: "CASCADE_AUTH_TOKENS_FILE"),
    ]

    private static let jwtOnly = ["jwks", "issuer", "client-ids", "hs256-secret-file"]

    static func authorizer(_ args: ParsedArguments) throws -> any ReportAuthorizer {
        guard let mode = args.value("auth") else {
            throw UsageError("choose who may complete jobs: --auth jwt, --auth tokens or --auth none (or set CASCADE_AUTH)")
        }
        let strayJWT = jwtOnly.filter { args.value($0) != nil }
        if mode != "jwt", let option = strayJWT.first { throw UsageError("--\(option) is for --auth jwt, not --auth \(mode)") }
        if mode != "tokens", args.value("auth-tokens") != nil { throw UsageError("--auth-tokens is for --auth tokens, not --auth \(mode)") }
        switch mode {
        case "none":
            Log.warning("--auth none: every report is accepted, whoever sent it")
            return AllowAllAuthorizer()
        case "tokens":
            guard let path = args.value("auth-tokens") else { throw UsageError("--auth tokens needs --auth-tokens FILE") }
            guard let data = FileManager.default.contents(atPath: path) else { throw UsageError("--auth-tokens: cannot read \(path)") }
            do { return try BearerTokenAuthorizer(json: Array(data)) } catch { throw UsageError("--auth-tokens \(path): \(error.description)") }
        case "jwt":
            return try jwtAuthorizer(args)
        default:
            throw UsageError("--auth must be jwt, tokens or none, got '\(mode)'")
        }
    }

    private static func jwtAuthorizer(_ args: ParsedArguments) throws -> JWTAuthorizer {
        guard let issuer = args.value("issuer"), !issuer.isEmpty else { throw UsageError("--auth jwt needs --issuer (the tokens' iss)") }
        let scope = try args.required("required-scope")
        guard !scope.isEmpty, !scope.contains(" ") else { throw UsageError("--required-scope must be one scope, without spaces") }
        let secret = try args.value("hs256-secret-file").map { path -> [UInt8] in
            guard let data = FileManager.default.contents(atPath: path) else { throw UsageError("--hs256-secret-file: cannot read \(path)") }
            // A trailing newline from `echo` is not part of the secret.
            let bytes = Array(data.reversed().drop { $0 == 0x0A || $0 == 0x0D }.reversed())
            guard bytes.count >= 32 else { throw UsageError("--hs256-secret-file: the secret must be at least 32 bytes (RFC 7518 §3.2)") }
            return bytes
        }
        guard args.value("jwks") != nil || secret != nil else { throw UsageError("--auth jwt needs --jwks FILE") }
        let clientIds = Set((args.value("client-ids") ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty })
        let policy = TokenPolicy(issuer: issuer, clientIds: clientIds, requiredScope: scope,
                                 leewaySeconds: Int64(try args.int("leeway", range: 0...3600)!))
        var settings = JWTAuthorizer.Settings(jwksPath: args.value("jwks"), policy: policy)
        settings.hs256Secret = secret
        if secret != nil { Log.warning("HS256 tokens accepted (--hs256-secret-file): for development only") }
        do { return try JWTAuthorizer(settings: settings) } catch { throw UsageError("--jwks: \(error)") }
    }
}
