import CascadeDomain
import XCTest

final class CompactJWSTests: XCTestCase {
    private typealias F = JWTFixtures

    func testARealRS256TokenParsesFieldByField() throws {
        let jws = try CompactJWS.parse(F.rs256Token)
        XCTAssertEqual(jws.algorithm, "RS256")
        XCTAssertEqual(jws.keyId, "rsa-2026")
        XCTAssertEqual(jws.header, ["alg": "RS256", "kid": "rsa-2026", "typ": "JWT"])
        XCTAssertEqual(jws.payload, F.claims())
        let parts = F.rs256Token.split(separator: ".", omittingEmptySubsequences: false)
        XCTAssertEqual(jws.signingInput, Array("\(parts[0]).\(parts[1])".utf8))
        XCTAssertEqual(jws.signature, Base64URL.decode(parts[2]))
        XCTAssertEqual(jws.signature.count, 256, "RSA-2048")
    }

    func testARealES256TokenHasARawSixtyFourByteSignature() throws {
        let jws = try CompactJWS.parse(F.es256Token)
        XCTAssertEqual(jws.algorithm, "ES256")
        XCTAssertEqual(jws.keyId, "ec-2026")
        XCTAssertEqual(jws.signature.count, 64)
        XCTAssertEqual(jws.signingInput.count, F.es256Token.utf8.count - 87, "86 signature characters and a dot")
    }

    func testAHeaderWithoutKidParsesWithNilKeyId() throws {
        let jws = try CompactJWS.parse(F.token(header: #"{"alg":"ES256"}"#))
        XCTAssertNil(jws.keyId)
    }

    func testSegmentCountMustBeThree() {
        XCTAssertThrowsRejection(try CompactJWS.parse("abc"), .notThreeSegments(segmentCount: 1))
        XCTAssertThrowsRejection(try CompactJWS.parse("eyJ9.eyJ9"), .notThreeSegments(segmentCount: 2))
        XCTAssertThrowsRejection(try CompactJWS.parse(F.token() + ".AAAA"), .notThreeSegments(segmentCount: 4))
        XCTAssertThrowsRejection(try CompactJWS.parse("a.b.c.d.e"), .notThreeSegments(segmentCount: 5), "a JWE has five")
        XCTAssertThrowsRejection(try CompactJWS.parse(""), .notThreeSegments(segmentCount: 1))
        XCTAssertThrowsRejection(try CompactJWS.parse(".."), .headerNotJSON(errorOffset: 0), "three empty segments decode; the header is empty")
    }

    /// The size check comes before anything else: this token is also wrongly segmented and
    /// badly encoded, and still the size is what it is refused for.
    func testAnOversizedTokenIsRefusedBeforeAnyDecoding() {
        let junk = String(repeating: "!=+.", count: 2048) + "!"
        XCTAssertEqual(junk.utf8.count, 8193)
        XCTAssertThrowsRejection(try CompactJWS.parse(junk), .tokenTooLarge(byteCount: 8193))
        let wellFormed = F.token(payload: F.claims(["note": .string(String(repeating: "x", count: 7000))]).description)
        XCTAssertGreaterThan(wellFormed.utf8.count, 8192)
        XCTAssertThrowsRejection(try CompactJWS.parse(wellFormed), .tokenTooLarge(byteCount: wellFormed.utf8.count))
    }

    func testATokenOfExactlyTheLimitParses() throws {
        func payload(_ filler: Int) -> String { F.claims(["note": .string(String(repeating: "x", count: filler))]).description }
        func encodedCount(_ bytes: Int) -> Int { (bytes * 4 + 2) / 3 }
        let fixed = F.segment(F.rs256Header).utf8.count + 2 + encodedCount(payload(0).utf8.count)
        // Unpadded lengths skip every value 4k+1, so the signature length absorbs the remainder.
        let filler = (CompactJWS.maximumByteCount - fixed - 90) * 3 / 4
        let signatureCount = try XCTUnwrap((0...80).first {
            fixed - encodedCount(payload(0).utf8.count) + encodedCount(payload(filler).utf8.count) + encodedCount($0) == 8192
        })
        let token = F.token(payload: payload(filler), signature: Array(repeating: 1, count: signatureCount))
        XCTAssertEqual(token.utf8.count, 8192)
        XCTAssertNoThrow(try CompactJWS.parse(token))
        XCTAssertThrowsRejection(try CompactJWS.parse(token + "A"), .tokenTooLarge(byteCount: 8193))
    }

    func testPaddingInAnySegmentIsAnEncodingError() {
        let parts = F.token(payload: #"{"a":1}"#, signature: [1]).split(separator: ".").map(String.init)
        XCTAssertThrowsRejection(try CompactJWS.parse("\(parts[0])=.\(parts[1]).\(parts[2])"), .badEncoding(.header))
        XCTAssertEqual(parts[1], "eyJhIjoxfQ", "needs padding in standard base64")
        XCTAssertThrowsRejection(try CompactJWS.parse("\(parts[0]).\(parts[1])==.\(parts[2])"), .badEncoding(.payload))
        XCTAssertThrowsRejection(try CompactJWS.parse("\(parts[0]).\(parts[1]).AQ=="), .badEncoding(.signature))
    }

    func testStandardAlphabetAndWhitespaceAreEncodingErrors() {
        let parts = F.token().split(separator: ".").map(String.init)
        XCTAssertThrowsRejection(try CompactJWS.parse("\(parts[0]).\(parts[1]).ab+/"), .badEncoding(.signature))
        XCTAssertThrowsRejection(try CompactJWS.parse("\(parts[0]).\(parts[1].prefix(8)) \(parts[1].dropFirst(8)).\(parts[2])"),
                                 .badEncoding(.payload))
    }

    /// All three encodings are checked before any JSON, in segment order.
    func testEncodingIsCheckedForEverySegmentBeforeTheHeaderIsRead() {
        let notJSON = F.segment("not json")
        XCTAssertThrowsRejection(try CompactJWS.parse("\(notJSON).e30=.AA"), .badEncoding(.payload))
        XCTAssertThrowsRejection(try CompactJWS.parse("\(notJSON).e30.A"), .badEncoding(.signature))
        XCTAssertThrowsRejection(try CompactJWS.parse("e30=.e30=.A"), .badEncoding(.header))
    }

    func testTheHeaderMustBeAJSONObject() {
        XCTAssertThrowsRejection(try CompactJWS.parse(F.token(header: "not json")), .headerNotJSON(errorOffset: 0))
        XCTAssertThrowsRejection(try CompactJWS.parse(F.token(header: #"{"alg":"RS256""#)), .headerNotJSON(errorOffset: 14))
        XCTAssertThrowsRejection(try CompactJWS.parse(F.token(header: #"["RS256"]"#)), .headerNotJSON(errorOffset: nil))
        XCTAssertThrowsRejection(try CompactJWS.parse(F.token(header: #""RS256""#)), .headerNotJSON(errorOffset: nil))
    }

    /// A header naming alg twice could be read as RS256 by one library and none by another.
    func testDuplicateHeaderMembersAreRefused() {
        XCTAssertThrowsRejection(try CompactJWS.parse(F.token(header: #"{"alg":"RS256","alg":"none"}"#)),
                                 .headerNotJSON(errorOffset: 20))
    }

    func testAlgMustBeAPresentString() {
        XCTAssertThrowsRejection(try CompactJWS.parse(F.token(header: #"{"kid":"rsa-2026"}"#)), .badHeader(.algMissing))
        XCTAssertThrowsRejection(try CompactJWS.parse(F.token(header: #"{"alg":256}"#)), .badHeader(.algNotString))
        XCTAssertThrowsRejection(try CompactJWS.parse(F.token(header: #"{"alg":null}"#)), .badHeader(.algNotString))
        XCTAssertThrowsRejection(try CompactJWS.parse(F.token(header: #"{"alg":["RS256"]}"#)), .badHeader(.algNotString))
    }

    func testKidMustBeAStringWhenPresent() {
        XCTAssertThrowsRejection(try CompactJWS.parse(F.token(header: #"{"alg":"RS256","kid":7}"#)), .badHeader(.kidNotString))
        XCTAssertThrowsRejection(try CompactJWS.parse(F.token(header: #"{"alg":"RS256","kid":null}"#)), .badHeader(.kidNotString))
    }

    func testCriticalHeaderExtensionsAreRefused() {
        XCTAssertThrowsRejection(try CompactJWS.parse(F.token(header: #"{"alg":"RS256","b64":false,"crit":["b64"]}"#)),
                                 .badHeader(.criticalExtensions))
    }

    func testTheHeaderIsCheckedBeforeThePayload() {
        XCTAssertThrowsRejection(try CompactJWS.parse(F.token(header: #"{"alg":1}"#, payload: "not json")), .badHeader(.algNotString))
    }

    func testThePayloadMustBeAJSONObject() {
        XCTAssertThrowsRejection(try CompactJWS.parse(F.token(payload: "not json")), .payloadNotJSON(errorOffset: 0))
        XCTAssertThrowsRejection(try CompactJWS.parse(F.token(payload: #"{"exp":}"#)), .payloadNotJSON(errorOffset: 7))
        XCTAssertThrowsRejection(try CompactJWS.parse(F.token(payload: "[1,2]")), .payloadNotJSON(errorOffset: nil))
        XCTAssertThrowsRejection(try CompactJWS.parse(F.token(payload: "12")), .payloadNotJSON(errorOffset: nil))
        XCTAssertThrowsRejection(try CompactJWS.parse(F.token(payload: "")), .payloadNotJSON(errorOffset: 0))
    }

    /// An unsecured token has an empty third segment: that is a shape we parse, so the refusal
    /// comes from the algorithm check with its own message.
    func testAnEmptySignatureSegmentDecodesToNoBytes() throws {
        let token = "\(F.segment(#"{"alg":"none"}"#)).\(F.segment(F.claims().description))."
        let jws = try CompactJWS.parse(token)
        XCTAssertEqual(jws.signature, [])
        XCTAssertEqual(jws.algorithm, "none")
        XCTAssertEqual(jws.signingInput, Array(token.utf8.dropLast()))
    }
}
