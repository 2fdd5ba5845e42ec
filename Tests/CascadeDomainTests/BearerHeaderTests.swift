import CascadeDomain
import XCTest

final class BearerHeaderTests: XCTestCase {
    func testTheTokenFollowsBearerAndOneSpace() {
        XCTAssertEqual(try BearerHeader.token(in: "Bearer abc.def.ghi"), "abc.def.ghi")
    }

    func testTheSchemeIsMatchedWithoutRegardToCase() {
        for header in ["bearer x", "BEARER x", "BeArEr x"] { XCTAssertEqual(try BearerHeader.token(in: header), "x", header) }
    }

    func testAMissingOrEmptyHeaderIsMissing() {
        XCTAssertThrowsRejection(try BearerHeader.token(in: nil), .missing)
        XCTAssertThrowsRejection(try BearerHeader.token(in: ""), .missing)
        XCTAssertEqual(TokenRejection.missing.message, "missing authorization header (expected \"Bearer <token>\")")
    }

    func testOtherSchemesAreNotBearerAndAStandardOneIsNamed() {
        XCTAssertThrowsRejection(try BearerHeader.token(in: "Basic dXNlcjpwYXNz"), .notBearer(knownScheme: "Basic"))
        XCTAssertThrowsRejection(try BearerHeader.token(in: "basic dXNlcjpwYXNz"), .notBearer(knownScheme: "Basic"))
        XCTAssertThrowsRejection(try BearerHeader.token(in: "Token abc"), .notBearer(knownScheme: nil))
        XCTAssertThrowsRejection(try BearerHeader.token(in: "Bearerx abc"), .notBearer(knownScheme: nil))
        XCTAssertThrowsRejection(try BearerHeader.token(in: "XBearer abc"), .notBearer(knownScheme: nil))
        XCTAssertEqual(TokenRejection.notBearer(knownScheme: "Basic").message,
                       "authorization header uses the Basic scheme and is not a bearer token (expected \"Bearer <token>\")")
    }

    /// A token sent with no scheme is refused without being echoed as the "scheme".
    func testABareTokenIsNotBearerAndIsNotRepeated() {
        let bare = JWTFixtures.rs256Token
        XCTAssertThrowsRejection(try BearerHeader.token(in: bare), .notBearer(knownScheme: nil))
        XCTAssertThrowsRejection(try BearerHeader.token(in: "\(bare) more"), .notBearer(knownScheme: nil))
        XCTAssertThrowsRejection(try BearerHeader.token(in: "Bearer\t\(bare)"), .notBearer(knownScheme: nil))
    }

    func testBearerWithoutATokenIsEmpty() {
        XCTAssertThrowsRejection(try BearerHeader.token(in: "Bearer"), .badBearerSyntax(.emptyToken))
        XCTAssertThrowsRejection(try BearerHeader.token(in: "bearer "), .badBearerSyntax(.emptyToken))
    }

    func testExactlyOneSpaceSeparatesSchemeAndToken() {
        XCTAssertThrowsRejection(try BearerHeader.token(in: "Bearer  abc"), .badBearerSyntax(.notOneSpace))
        XCTAssertThrowsRejection(try BearerHeader.token(in: "Bearer \tabc"), .badBearerSyntax(.notOneSpace))
    }

    func testTheTokenHoldsNoWhitespaceOrControlCharacters() {
        for header in ["Bearer abc def", "Bearer abc ", "Bearer abc\t", "Bearer ab\nc", "Bearer ab\u{0}c", "Bearer ab\u{7F}c"] {
            XCTAssertThrowsRejection(try BearerHeader.token(in: header), .badBearerSyntax(.whitespaceInToken), header.debugDescription)
        }
    }

    func testEveryBearerRefusalIsA401WithABoundedReason() {
        let refusals: [TokenRejection] = [.missing, .notBearer(knownScheme: nil), .badBearerSyntax(.emptyToken),
                                          .badBearerSyntax(.notOneSpace), .badBearerSyntax(.whitespaceInToken)]
        XCTAssertEqual(refusals.map(\.reason), ["missing", "not_bearer", "malformed", "malformed", "malformed"])
        XCTAssertFalse(refusals.contains(where: \.isForbidden))
    }
}
