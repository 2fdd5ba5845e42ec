import CascadeDomain
import CascadeService
import Foundation
import Synchronization
import TestSupport
import XCTest

/// Tokens minted by PyJWT and `cryptography` (scripts/contracts/mint_tokens.py), checked by
/// JWTAuthorizer with real keys: every case of the platform's tokens, the cache, and rotation.
final class JWTAuthorizerTests: XCTestCase {
    static let issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TEST"
    private var directory: String!
    private var tokens: [String: JSONValue] = [:]

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + TestEnvironment.unique("jwt")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        XCTAssertEqual(try runScript("python3 scripts/contracts/mint_tokens.py '\(directory!)' '\(Self.issuer)'"), 0,
                       "PyJWT and cryptography are needed: scripts/test-tools.sh installs them")
        let document = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/tokens.json"))))
        for (name, value) in document.objectMembers ?? [] { tokens[name] = value }
        XCTAssertEqual(tokens.count, 30)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    /// The verifier looks at its key file, and re-reads it for an unknown kid, at most this
    /// often (a second in service); the tests below wait it out between changes.
    static let recheck: Duration = .milliseconds(200)
    private func waitOutTheRecheckInterval() { Thread.sleep(forTimeInterval: 0.25) }

    private func authorizer(hs256Secret: [UInt8]? = nil, now: (@Sendable () -> Int64)? = nil) throws -> JWTAuthorizer {
        var settings = JWTAuthorizer.Settings(jwksPath: directory + "/jwks.json",
                                              policy: TokenPolicy(issuer: Self.issuer, clientIds: ["fleet-a"]))
        settings.recheckInterval = Self.recheck
        settings.hs256Secret = hs256Secret
        return try now.map { try JWTAuthorizer(settings: settings, nowSeconds: $0) } ?? JWTAuthorizer(settings: settings)
    }

    private func report(_ authorization: String?) -> CompletionReport {
        CompletionReport(modelId: "m", modelVersion: "v1", jobId: "j", status: .success, authorization: authorization,
                         source: ReportSource(topic: "t", partition: 0, offset: 0))
    }

    private func header(_ name: String) -> String? { tokens[name]?["authorization"]?.stringValue }

    private func code(_ decision: AuthorizationDecision) -> Int {
        switch decision {
        case .allowed: 200
        case .unauthenticated: 401
        case .forbidden: 403
        }
    }

    private func message(_ decision: AuthorizationDecision) -> String {
        switch decision {
        case .allowed: ""
        case .unauthenticated(let text), .forbidden(let text): text
        }
    }

    func testEveryMintedTokenGetsItsAnswerAndItsReasonIsCounted() throws {
        let verifier = try authorizer()
        var expectedReasons: [String: Int] = [:]
        for (name, spec) in tokens.sorted(by: { $0.key < $1.key }) where name != "signed_by_new_key" {
            let decision = verifier.authorize(report(spec["authorization"]?.stringValue))
            guard case .number(let expected)? = spec["code"] else { return XCTFail("\(name): no code") }
            XCTAssertEqual(code(decision), Int(expected), "\(name): \(decision)")
            let text = message(decision)
            if let token = spec["authorization"]?.stringValue?.split(separator: " ").last, token.count > 8 {
                // Each segment on its own: PyJWT writes the same header segment for every rsa-1 token.
                for segment in token.split(separator: ".") where segment.count > 8 {
                    XCTAssertFalse(text.contains(segment), "\(name): the answer echoes part of the token")
                }
            }
            if let reason = spec["reason"]?.stringValue { expectedReasons[reason, default: 0] += 1 }
        }
        XCTAssertEqual(verifier.rejectionCounts, expectedReasons)
    }

    func testAnswersSayWhatToFix() throws {
        let verifier = try authorizer()
        func says(_ name: String, _ text: String) {
            let answer = message(verifier.authorize(report(header(name))))
            XCTAssertTrue(answer.contains(text), "\(name): \(answer)")
        }
        says("expired", "expired at 20")
        says("read_models_only", "lacks scope streamline/complete_jobs")
        says("alg_none_empty_signature", "none")
        says("wrong_issuer", "https://elsewhere.example")
        says("id_token", "access token")
        says("missing_header", "Bearer")
    }

    /// The confusion attack with HS256 enabled: the token's HMAC key is the RSA public key's
    /// PEM, which is never the configured secret, so the signature fails.
    func testHS256SignedWithThePublicKeyFailsEvenWhenHS256IsEnabled() throws {
        let verifier = try authorizer(hs256Secret: Array("a development secret of 32 bytes!".utf8))
        let decision = verifier.authorize(report(header("hs256_with_public_key_pem")))
        XCTAssertEqual(code(decision), 401, "\(decision)")
        XCTAssertEqual(verifier.rejectionCounts, ["bad_signature": 1])
    }

    func testACachedTokenIsRefusedOnceItExpires() throws {
        let clock = Atomic<Int64>(Int64(Date().timeIntervalSince1970))
        let verifier = try authorizer(now: { clock.load(ordering: .relaxed) })
        let token = header("rs256_with_scope")
        XCTAssertEqual(code(verifier.authorize(report(token))), 200)
        XCTAssertEqual(code(verifier.authorize(report(token))), 200, "again, from the cache")
        clock.add(3600 + 61, ordering: .relaxed)  // past exp and the 60 s leeway
        let decision = verifier.authorize(report(token))
        XCTAssertEqual(code(decision), 401)
        XCTAssertTrue(message(decision).contains("expired"), "\(decision)")
    }

    func testANewKeyIsAcceptedWithoutARestartAndARemovedKeysTokensAreRefused() throws {
        let verifier = try authorizer()
        let jwks = directory + "/jwks.json"
        XCTAssertEqual(code(verifier.authorize(report(header("rs256_with_scope")))), 200)
        XCTAssertEqual(code(verifier.authorize(report(header("signed_by_new_key")))), 401, "rsa-2 is not published yet")

        waitOutTheRecheckInterval()  // re-reads for an unknown kid are rate-limited too
        try FileManager.default.removeItem(atPath: jwks)
        try FileManager.default.copyItem(atPath: directory + "/jwks-rotated.json", toPath: jwks)
        XCTAssertEqual(code(verifier.authorize(report(header("signed_by_new_key")))), 200, "published: no restart needed")
        XCTAssertEqual(code(verifier.authorize(report(header("rs256_with_scope")))), 200, "cached again, under the new key set")

        waitOutTheRecheckInterval()
        try FileManager.default.removeItem(atPath: jwks)
        try FileManager.default.copyItem(atPath: directory + "/jwks-rotated-only.json", toPath: jwks)
        waitOutTheRecheckInterval()
        let old = verifier.authorize(report(header("rs256_with_scope")))
        XCTAssertEqual(code(old), 401, "rsa-1 was removed, and its cached token with it: \(old)")
        XCTAssertEqual(code(verifier.authorize(report(header("signed_by_new_key")))), 200)
    }

    /// How a Kubernetes ConfigMap volume updates a file: `jwks.json` is a symlink into `..data`,
    /// itself a symlink swapped to a new directory. The file's own link never changes.
    func testAKeySetUpdatedByASymlinkSwapIsNoticed() throws {
        let mount = directory + "/mount"
        XCTAssertEqual(try runScript("""
            set -e; mkdir -p '\(mount)/v1' '\(mount)/v2'; cp '\(directory!)/jwks.json' '\(mount)/v1/jwks.json'
            cp '\(directory!)/jwks-rotated-only.json' '\(mount)/v2/jwks.json'; ln -s v1 '\(mount)/..data'
            ln -s ..data/jwks.json '\(mount)/jwks.json'
            """), 0)
        var settings = JWTAuthorizer.Settings(jwksPath: mount + "/jwks.json", policy: TokenPolicy(issuer: Self.issuer, clientIds: ["fleet-a"]))
        settings.recheckInterval = Self.recheck
        let verifier = try JWTAuthorizer(settings: settings)
        XCTAssertEqual(code(verifier.authorize(report(header("rs256_with_scope")))), 200, "rsa-1 is published (and now cached)")
        waitOutTheRecheckInterval()
        XCTAssertEqual(try runScript("cd '\(mount)' && ln -s v2 ..data_tmp && mv -T ..data_tmp ..data"), 0)
        waitOutTheRecheckInterval()
        // Only a noticed change can refuse a cached token whose key was withdrawn.
        XCTAssertEqual(code(verifier.authorize(report(header("rs256_with_scope")))), 401, "the swap was not noticed")
        XCTAssertEqual(code(verifier.authorize(report(header("signed_by_new_key")))), 200)
    }

    func testAKeySetThatCannotBeReadRefusesTheStartAndABrokenRewriteKeepsTheOldKeys() throws {
        var settings = JWTAuthorizer.Settings(jwksPath: directory + "/missing.json", policy: TokenPolicy(issuer: Self.issuer))
        XCTAssertThrowsError(try JWTAuthorizer(settings: settings))
        settings.jwksPath = directory + "/jwks.json"
        let verifier = try JWTAuthorizer(settings: settings)
        try Data("{\"keys\": [".utf8).write(to: URL(fileURLWithPath: directory + "/jwks.json"))
        verifier.reload()
        XCTAssertEqual(code(verifier.authorize(report(header("rs256_with_scope")))), 200, "a half-written file keeps the old keys")
    }
}
