import CascadeDomain
import XCTest

final class TokenPolicyTests: XCTestCase {
    private typealias F = JWTFixtures
    private let policy = JWTFixtures.policy
    private let exp = JWTFixtures.expiresAt
    private let now = JWTFixtures.now

    private func evaluate(_ claims: JSONValue, policy: TokenPolicy? = nil, now: Int64? = nil) -> Result<TokenGrant, TokenRejection> {
        (policy ?? self.policy).evaluate(claims, nowSeconds: now ?? self.now)
    }

    private func basis(_ claims: JSONValue, policy: TokenPolicy? = nil) -> TokenGrant.Basis? {
        try? evaluate(claims, policy: policy).get().basis
    }

    func testAnAccessTokenWithTheScopeIsGranted() {
        XCTAssertEqual(try evaluate(F.claims()).get(),
                       TokenGrant(expiresAt: exp, subject: "3f1c-worker", clientId: "worker-client", basis: .scope))
    }

    // MARK: time, with 60 s leeway and the boundary accepted

    func testExpiryAllowsTheLeewayAndTheBoundaryItself() {
        XCTAssertNoThrow(try evaluate(F.claims(), now: exp).get())
        XCTAssertNoThrow(try evaluate(F.claims(), now: exp + 60).get(), "exactly at exp + leeway is still valid")
        XCTAssertRejects(evaluate(F.claims(), now: exp + 61), .expired(expiresAt: exp, now: exp + 61))
    }

    func testWithoutLeewayATokenIsValidAtExpAndExpiredOneSecondLater() {
        var strict = policy
        strict.leewaySeconds = 0
        XCTAssertNoThrow(try evaluate(F.claims(), policy: strict, now: exp).get())
        XCTAssertRejects(evaluate(F.claims(), policy: strict, now: exp + 1), .expired(expiresAt: exp, now: exp + 1))
        strict.leewaySeconds = -30
        XCTAssertRejects(evaluate(F.claims(), policy: strict, now: exp + 1), .expired(expiresAt: exp, now: exp + 1),
                         "a negative leeway counts as zero")
    }

    func testNotBeforeAllowsTheLeewayAndTheBoundaryItself() {
        XCTAssertNoThrow(try evaluate(F.claims(["nbf": .int(now)])).get())
        XCTAssertNoThrow(try evaluate(F.claims(["nbf": .int(now + 60)])).get())
        XCTAssertRejects(evaluate(F.claims(["nbf": .int(now + 61)])), .notYetValid(notBefore: now + 61, now: now))
    }

    func testIssuedAtAllowsTheLeewayAndTheBoundaryItself() {
        XCTAssertNoThrow(try evaluate(F.claims(["iat": .int(now + 60)])).get())
        XCTAssertRejects(evaluate(F.claims(["iat": .int(now + 61)])), .issuedInFuture(issuedAt: now + 61, now: now))
        XCTAssertNoThrow(try evaluate(F.claims(removing: ["iat"])).get(), "iat is optional")
    }

    /// NumericDates may be decimals or exponents; they are floored, so 10.9 means 10.
    func testFractionalAndExponentNumericDatesAreFloored() {
        XCTAssertEqual(try evaluate(F.claims(["exp": .number("1796295600.9")])).get().expiresAt, exp)
        XCTAssertEqual(try evaluate(F.claims(["exp": .number("17962956e2")])).get().expiresAt, exp)
        XCTAssertEqual(try evaluate(F.claims(["exp": .number("1.7962956E9")])).get().expiresAt, exp)
        XCTAssertRejects(evaluate(F.claims(["exp": .number("1796295600.9")]), now: exp + 61), .expired(expiresAt: exp, now: exp + 61))
        XCTAssertEqual(try evaluate(F.claims(["iat": .number("0.5")])).get().expiresAt, exp, "iat 0 is in range")
    }

    func testNumericDatesOutsideTheRepresentableRangeAreBadClaims() {
        for literal in ["-1", "-0.5", "1e400", "-1e400", "99999999999999999999", "9223372036854775808", "253402300800", "1e18"] {
            XCTAssertRejects(evaluate(F.claims(["exp": .number(literal)])), .badClaims(claim: "exp", problem: .outOfRange), literal)
        }
        XCTAssertNoThrow(try evaluate(F.claims(["exp": .number("253402300799")])).get())
        XCTAssertRejects(evaluate(F.claims(["nbf": .number("1e300")])), .badClaims(claim: "nbf", problem: .outOfRange))
        XCTAssertRejects(evaluate(F.claims(["iat": .number("-5")])), .badClaims(claim: "iat", problem: .outOfRange))
    }

    // MARK: claim types, checked before anything else

    func testExpIsRequiredAndANumber() {
        XCTAssertRejects(evaluate(F.claims(removing: ["exp"])), .badClaims(claim: "exp", problem: .missing))
        for wrong: JSONValue in [.string("1796295600"), .null, true, [1796295600], ["at": 1]] {
            XCTAssertRejects(evaluate(F.claims(["exp": wrong])), .badClaims(claim: "exp", problem: .notANumber), "\(wrong)")
        }
        XCTAssertEqual(TokenRejection.badClaims(claim: "exp", problem: .notANumber).message, "claim exp is not a number")
    }

    func testNbfAndIatMustBeNumbersWhenPresent() {
        XCTAssertRejects(evaluate(F.claims(["nbf": "soon"])), .badClaims(claim: "nbf", problem: .notANumber))
        XCTAssertRejects(evaluate(F.claims(["iat": .null])), .badClaims(claim: "iat", problem: .notANumber))
    }

    func testIssuerAndTokenUseAreRequiredStrings() {
        XCTAssertRejects(evaluate(F.claims(removing: ["iss"])), .badClaims(claim: "iss", problem: .missing))
        XCTAssertRejects(evaluate(F.claims(["iss": 7])), .badClaims(claim: "iss", problem: .notAString))
        XCTAssertRejects(evaluate(F.claims(removing: ["token_use"])), .badClaims(claim: "token_use", problem: .missing))
        XCTAssertRejects(evaluate(F.claims(["token_use": ["access"]])), .badClaims(claim: "token_use", problem: .notAString))
    }

    func testOptionalStringClaimsMustBeStringsWhenPresent() {
        XCTAssertRejects(evaluate(F.claims(["client_id": 42])), .badClaims(claim: "client_id", problem: .notAString))
        XCTAssertRejects(evaluate(F.claims(["scope": ["streamline/complete_jobs"]])), .badClaims(claim: "scope", problem: .notAString))
        XCTAssertRejects(evaluate(F.claims(["sub": .null])), .badClaims(claim: "sub", problem: .notAString))
    }

    func testGroupsMustBeAnArrayOfStrings() {
        XCTAssertRejects(evaluate(F.claims(["cognito:groups": "admin"])), .badClaims(claim: "cognito:groups", problem: .notAnArrayOfStrings))
        XCTAssertRejects(evaluate(F.claims(["cognito:groups": ["admin", 1]])), .badClaims(claim: "cognito:groups", problem: .notAnArrayOfStrings))
        XCTAssertNoThrow(try evaluate(F.claims(["cognito:groups": []])).get())
    }

    /// An expired token with a wrongly typed claim is reported as the type error.
    func testTypesAreCheckedBeforeTime() {
        XCTAssertRejects(evaluate(F.claims(["client_id": 42]), now: exp + 3600), .badClaims(claim: "client_id", problem: .notAString))
    }

    func testAPayloadThatIsNotAnObjectIsRefused() {
        XCTAssertRejects(evaluate(["exp", 1]), .payloadNotJSON(errorOffset: nil))
    }

    // MARK: issuer, token use, client

    func testTheIssuerMustMatchExactly() {
        for issuer in [F.issuer + "/", F.issuer.uppercased(), "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other", ""] {
            XCTAssertRejects(evaluate(F.claims(["iss": .string(issuer)])), .wrongIssuer(issuer), issuer)
        }
        XCTAssertEqual(TokenRejection.wrongIssuer("https://x").message, "token issuer 'https://x' is not the configured issuer")
    }

    func testAnIDTokenIsRefused() {
        XCTAssertRejects(evaluate(F.claims(["token_use": "id"])), .wrongTokenUse("id"))
        XCTAssertEqual(TokenRejection.wrongTokenUse("id").message, "token_use is 'id'; an access token is required")
        XCTAssertRejects(evaluate(F.claims(["token_use": "Access"])), .wrongTokenUse("Access"))
    }

    func testAnEmptyClientListAcceptsAnyClientOrNone() {
        XCTAssertNoThrow(try evaluate(F.claims(["client_id": "someone-else"])).get())
        XCTAssertEqual(try evaluate(F.claims(removing: ["client_id"])).get().clientId, nil)
    }

    func testANonEmptyClientListRequiresAListedClientId() {
        var listed = policy
        listed.clientIds = ["worker-client", "ops-client"]
        XCTAssertNoThrow(try evaluate(F.claims(), policy: listed).get())
        XCTAssertNoThrow(try evaluate(F.claims(["client_id": "ops-client"]), policy: listed).get())
        XCTAssertRejects(evaluate(F.claims(["client_id": "other"]), policy: listed), .clientNotAllowed(clientId: "other"))
        XCTAssertRejects(evaluate(F.claims(removing: ["client_id"]), policy: listed), .clientNotAllowed(clientId: nil))
        XCTAssertEqual(TokenRejection.clientNotAllowed(clientId: nil).message, "token has no client_id, and only listed clients are allowed")
    }

    // MARK: permission

    func testTheRequiredScopeMayBeOneOfSeveral() {
        XCTAssertEqual(basis(F.claims(["scope": "a streamline/complete_jobs b"])), .scope)
        XCTAssertEqual(basis(F.claims(["scope": "openid  streamline/complete_jobs"])), .scope)
    }

    func testScopesAreComparedWhole() {
        for scope in ["streamline/complete_jobs_extra", "streamline/complete", "xstreamline/complete_jobs", "Streamline/complete_jobs",
                      "streamline/complete_jobs\textra", "", "streamline/admins"] {
            XCTAssertRejects(evaluate(F.claims(["scope": .string(scope)])), .insufficientScope(required: "streamline/complete_jobs"), scope)
        }
    }

    func testAdminScopeOrAdminGroupAlsoGrant() {
        XCTAssertEqual(basis(F.claims(["scope": "openid streamline/admin"])), .adminScope)
        XCTAssertEqual(basis(F.claims(["cognito:groups": ["users", "admin"]], removing: ["scope"])), .adminGroup)
        XCTAssertEqual(basis(F.claims(["cognito:groups": ["admin"]])), .scope, "the ordinary scope is named first")
    }

    func testNoScopeAndNoAdminGroupIsForbidden() {
        let refusal = TokenRejection.insufficientScope(required: "streamline/complete_jobs")
        XCTAssertRejects(evaluate(F.claims(removing: ["scope"])), refusal)
        XCTAssertRejects(evaluate(F.claims(["cognito:groups": ["admins", "Admin"]], removing: ["scope"])), refusal)
        XCTAssertTrue(refusal.isForbidden)
        XCTAssertEqual(refusal.message, "token lacks scope streamline/complete_jobs")
    }

    func testTheConfiguredNamesAreTheOnesChecked() {
        let custom = TokenPolicy(issuer: F.issuer, requiredScope: "api/write", adminScope: "api/root", adminGroup: "ops")
        XCTAssertEqual(basis(F.claims(["scope": "api/write"]), policy: custom), .scope)
        XCTAssertEqual(basis(F.claims(["scope": "api/root"]), policy: custom), .adminScope)
        XCTAssertEqual(basis(F.claims(["cognito:groups": ["ops"]], removing: ["scope"]), policy: custom), .adminGroup)
        XCTAssertRejects(evaluate(F.claims(), policy: custom), .insufficientScope(required: "api/write"))
    }

    /// A token wrong in every way is refused for the first check in order; fixing each in turn
    /// reveals the next.
    func testChecksRunInTheDocumentedOrder() {
        var listed = policy
        listed.clientIds = ["worker-client"]
        var changes: [(String, JSONValue)] = [("exp", .int(now - 3600)), ("nbf", .int(now + 3600)), ("iat", .int(now + 3600)),
                                              ("iss", "https://evil"), ("token_use", "id"), ("client_id", "other"), ("scope", "none")]
        let expected: [TokenRejection] = [
            .expired(expiresAt: now - 3600, now: now), .notYetValid(notBefore: now + 3600, now: now),
            .issuedInFuture(issuedAt: now + 3600, now: now), .wrongIssuer("https://evil"), .wrongTokenUse("id"),
            .clientNotAllowed(clientId: "other"), .insufficientScope(required: "streamline/complete_jobs"),
        ]
        for rejection in expected {
            var claims = F.claims()
            for (key, value) in changes { claims = Self.replacing(claims, key, value) }
            XCTAssertRejects(evaluate(claims, policy: listed), rejection)
            changes.removeFirst()
        }
    }

    private static func replacing(_ claims: JSONValue, _ key: String, _ value: JSONValue) -> JSONValue {
        .object(claims.objectMembers!.filter { $0.key != key } + [(key: key, value: value)])
    }
}
