import CascadeDomain
import XCTest

final class JSONTests: XCTestCase {
    func testParsesEveryKindAndWritesItBack() throws {
        let text = #"{"s":"a\"b\\c\n","n":-1.5e3,"i":12345678901234567890,"t":true,"f":false,"z":null,"a":[1,{"x":[]}],"o":{}}"#
        let value = try JSONParser.parse(text)
        XCTAssertEqual(value["s"], "a\"b\\c\n")
        XCTAssertEqual(value["i"], .number("12345678901234567890"), "big integers keep their digits")
        XCTAssertEqual(value.description, text)
    }

    func testUnicodeEscapesAndSurrogatePairs() throws {
        XCTAssertEqual(try JSONParser.parse(#""\u00e9\ud83d\ude80""#), "é🚀")
        XCTAssertEqual(try JSONParser.parse("\"模型\""), "模型")
        XCTAssertEqual(JSONValue.string("\u{1}").description, #""\u0001""#)
    }

    /// Escapes at the start, the end, side by side and between multi-byte characters, and every
    /// control character: the writer copies unescaped runs in bulk, so run edges matter.
    func testEveryStringSurvivesWriteThenParse() throws {
        let controls = String((0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) })
        for text in ["", "plain", "\"", "\\", "\"\"", "é\"🚀\\模", "\nend", "start\t", "a\u{7f}b", controls, controls + "x" + controls] {
            let written = JSONValue.string(text).description
            XCTAssertEqual(try JSONParser.parse(written), .string(text), written)
        }
        XCTAssertEqual(JSONValue.string("a\"b\\c\n\r\t\u{8}\u{c}\u{1}é").description, #""a\"b\\c\n\r\t\b\f\u0001é""#)
    }

    /// A downstream request carries a report's output written back: it must never grow, or
    /// the 64 KiB envelope over the report limit would not bound it.
    func testWritingAParsedValueBackNeverMakesItLonger() throws {
        let escapes = #"{"s":"\b\f\n\r\t\"\\\/\u0001\u001f\u00e9\ud83d\ude80 plain é"}"#
        let parsed = try JSONParser.parse(escapes)
        XCTAssertLessThanOrEqual(parsed.description.utf8.count, escapes.utf8.count, parsed.description)
        let controls = "\"" + String(repeating: #"\b\f"#, count: 1000) + "\""
        XCTAssertEqual(try JSONParser.parse(controls).description.utf8.count, controls.utf8.count)
    }

    func testRejectsMalformedInputWithAPosition() {
        let cases: [(String, String, Int)] = [
            ("", "unexpected end of input", 0), ("{", "expected a string key", 1), ("[1,]", "unexpected character ']'", 3),
            ("{\"a\":1,}", "expected a string key", 7), ("{\"a\" 1}", "expected ':'", 5),
            ("01", "unexpected data after the JSON value", 1), ("1.", "invalid number", 2), ("-", "invalid number", 1),
            ("tru", "unexpected end of input", 0), ("\"\\x\"", "invalid escape", 3), ("\"\\ud800\"", "unpaired surrogate", 7),
            ("\"a\nb\"", "control character in string", 2), ("{\"a\":1} x", "unexpected data after the JSON value", 8),
            ("{'a':1}", "expected a string key", 1), ("{\"a\":1,\"a\":2}", "duplicate key \"a\"", 10),
            ("NaN", "unexpected character 'N'", 0),
        ]
        for (text, message, offset) in cases {
            XCTAssertThrowsError(try JSONParser.parse(text), text) { error in
                XCTAssertEqual(error as? JSONParser.Failure, JSONParser.Failure(message: message, offset: offset), text)
            }
        }
        XCTAssertThrowsError(try JSONParser.parse([0x22, 0xFF, 0x22])) {
            XCTAssertEqual($0 as? JSONParser.Failure, JSONParser.Failure(message: "invalid UTF-8 in string", offset: 1))
        }
    }

    /// 110,000 members (about 1 MiB): the duplicate check once made this take 16 s. Its time
    /// is measured by the bench (docs/BENCHMARKS.md); here, that wide objects keep every member
    /// in order and still refuse a duplicate wherever it sits.
    func testAWideObjectKeepsEveryMemberAndRefusesADuplicateAnywhere() throws {
        let count = 110_000
        let members = (0..<count).map { #""k\#($0)":\#($0)"# }
        let value = try JSONParser.parse("{" + members.joined(separator: ",") + "}")
        let parsed = try XCTUnwrap(value.objectMembers)
        XCTAssertEqual(parsed.count, count)
        XCTAssertEqual(parsed.last?.key, "k\(count - 1)")
        XCTAssertEqual(value["k54321"], 54321)

        for (first, second) in [(0, 1), (3, 5), (0, count - 1), (JSONParser.linearScanLimit - 1, JSONParser.linearScanLimit + 1),
                                (count - 2, count - 1)] {
            var keys = (0..<count).map { "k\($0)" }
            keys[second] = keys[first]
            let text = "{" + keys.map { #""\#($0)":0"# }.joined(separator: ",") + "}"
            XCTAssertThrowsError(try JSONParser.parse(text), "\(first) and \(second)") { error in
                XCTAssertTrue("\(error)".contains(#"duplicate key "k\#(first)""#), "\(error)")
            }
        }
    }

    func testADuplicateKeyIsQuotedShort() throws {
        let key = String(repeating: "k", count: 10_000)
        XCTAssertThrowsError(try JSONParser.parse(#"{"\#(key)":1,"\#(key)":2}"#)) { error in
            let message = (error as? JSONParser.Failure)?.message ?? ""
            XCTAssertEqual(message, "duplicate key \"" + String(repeating: "k", count: JSONParser.quotedKeyLimit) + "…\"")
        }
    }

    func testRefusesNestingDeeperThanTheLimit() {
        XCTAssertNoThrow(try JSONParser.parse(String(repeating: "[", count: 64) + String(repeating: "]", count: 64)))
        XCTAssertThrowsError(try JSONParser.parse(String(repeating: "[", count: 65) + String(repeating: "]", count: 65)))
    }

    /// RFC 8259 compares keys by code unit; Swift's String == by canonical equivalence, under
    /// which KELVIN SIGN is "K". Found by the differential check against Python (JSONDifferentialTests).
    func testKeysThatAreOnlyCanonicallyEquivalentAreDistinct() throws {
        for (a, b) in [("K", "\u{212A}"), ("\u{E9}", "e\u{301}"), (";", "\u{37E}")] {
            let value = try JSONParser.parse(#"{"\#(a)":1,"\#(b)":2}"#)
            XCTAssertEqual(value.objectMembers?.count, 2, a)
            XCTAssertEqual(value[a], 1)
            XCTAssertEqual(value[b], 2)
            XCTAssertNotEqual(JSONValue.string(a), JSONValue.string(b))
            XCTAssertNotEqual(JSONValue(dictionaryLiteral: (a, 1)), JSONValue(dictionaryLiteral: (b, 1)))
            // The same past the linear scan, in the wide-object path.
            let wide = (0..<JSONParser.linearScanLimit + 2).map { #""k\#($0)":0"# } + [#""\#(a)":1"#, #""\#(b)":2"#]
            XCTAssertEqual(try JSONParser.parse("{" + wide.joined(separator: ",") + "}").objectMembers?.count, wide.count)
        }
    }

    func testNumbersCompareByTheirExactDecimalValue() {
        for (a, b) in [("1", "1.0"), ("1", "10e-1"), ("-0", "0"), ("0.0", "-0e5"), ("120", "1.2E+2"), ("1e400", "10e399"),
                       ("0.000001", "1e-6"), ("12345678901234567890", "1.2345678901234567890e19")] {
            XCTAssertEqual(JSONValue.number(a), JSONValue.number(b), "\(a) = \(b)")
            XCTAssertEqual(Set([JSONValue.number(a), JSONValue.number(b)]).count, 1, "\(a) and \(b) hash alike")
        }
        for (a, b) in [("9007199254740993", "9007199254740992"), ("1e400", "1e401"), ("-1", "1"), ("0.1", "0.10000000000000001"),
                       ("1e99999999999999999999", "1e99999999999999999998")] {
            XCTAssertNotEqual(JSONValue.number(a), JSONValue.number(b), "\(a) ≠ \(b)")
        }
        // What is no number compares as text, never as zero or as its prefix.
        for (a, b) in [("nan", "0"), ("inf", "0"), ("1.5.3", "1.53"), ("1x", "1"), ("", "0")] {
            XCTAssertNotEqual(JSONValue.number(a), JSONValue.number(b), "\(a) ≠ \(b)")
        }
        let twice = JSONValue.object([("a", 1), ("a", 1)]), other = JSONValue.object([("a", 1), ("b", 2)])
        XCTAssertEqual(twice == other, other == twice, "equality is symmetric with a repeated key")
    }

    func testObjectsCompareWithoutRegardToKeyOrderAndNumbersByValue() {
        XCTAssertEqual(JSONValue(dictionaryLiteral: ("a", 1), ("b", 2)), JSONValue(dictionaryLiteral: ("b", 2), ("a", 1)))
        XCTAssertEqual(JSONValue.number("1.0"), JSONValue.number("1"))
        XCTAssertNotEqual(JSONValue(dictionaryLiteral: ("a", 1)), JSONValue(dictionaryLiteral: ("a", 1), ("b", 2)))
        XCTAssertNotEqual(JSONValue.string("1"), JSONValue.number("1"))
        XCTAssertEqual(Set([JSONValue(dictionaryLiteral: ("a", 1), ("b", 2)), JSONValue(dictionaryLiteral: ("b", 2), ("a", 1))]).count, 1)
    }

    func testTimestampsAreRFC3339InUTCWithMilliseconds() {
        XCTAssertEqual(Timestamp.iso8601(Date(timeIntervalSince1970: 0)), "1970-01-01T00:00:00.000Z")
        XCTAssertEqual(Timestamp.iso8601(Date(timeIntervalSince1970: 1_800_000_000.25)), "2027-01-15T08:00:00.250Z")
    }
}

import Foundation

final class JSONWriterTests: XCTestCase {
    func testWritesNestedContainersWithCommasInTheRightPlaces() throws {
        var w = JSONWriter()
        w.beginObject()
        w.key("a"); w.int(1)
        w.key("list"); w.beginArray(); w.string("x"); w.beginObject(); w.endObject(); w.value(nil); w.beginArray(); w.endArray(); w.endArray()
        w.member("none", nil)
        w.key("v"); w.value(["k": [true, "s\n"]])
        w.key("b"); w.bool(false)
        w.endObject()
        XCTAssertEqual(String(decoding: w.bytes, as: UTF8.self), #"{"a":1,"list":["x",{},null,[]],"none":null,"v":{"k":[true,"s\n"]},"b":false}"#)
        XCTAssertNoThrow(try JSONParser.parse(w.bytes))
    }

    /// Commas are tracked per level: 64 levels, each with a member before and after the
    /// nested one, come out as the same text built by hand.
    func testCommasAreRightAtEveryLevelOfDeepNesting() throws {
        var w = JSONWriter()
        for _ in 0..<64 { w.beginArray(); w.int(1) }
        for _ in 0..<64 { w.int(2); w.endArray() }
        var expected = ""
        for _ in 0..<64 { expected += "[1," }
        expected += "2"
        for i in 0..<64 { expected += i == 63 ? "]" : "],2" }
        XCTAssertEqual(String(decoding: w.bytes, as: UTF8.self), expected)
        XCTAssertNoThrow(try JSONParser.parse(w.bytes))
    }

    func testKeysFromDataAreEscapedAndLiteralKeysCopied() throws {
        var w = JSONWriter()
        w.beginObject()
        w.key(named: "q\"k\n"); w.int(1)
        w.key("é and longer than fifteen bytes"); w.int(2)
        w.key("x"); w.int(3)
        w.endObject()
        XCTAssertEqual(String(decoding: w.bytes, as: UTF8.self), #"{"q\"k\n":1,"é and longer than fifteen bytes":2,"x":3}"#)
        XCTAssertEqual(try JSONParser.parse(w.bytes)["q\"k\n"], 1)
    }

    func testUUIDsAreWrittenLowercaseInTheCanonicalForm() {
        for _ in 0..<20 {
            let id = UUID()
            var w = JSONWriter()
            w.uuid(id)
            XCTAssertEqual(String(decoding: w.bytes, as: UTF8.self), "\"\(id.uuidString.lowercased())\"")
        }
    }
}
