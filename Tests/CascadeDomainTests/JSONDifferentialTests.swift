import CascadeDomain
import Foundation
import TestSupport
import XCTest

/// JSONParser against Python's json module, on a seeded corpus of valid and invalid documents
/// made by scripts/contracts/json_corpus.py. Its docstring defines Python's verdict and the
/// canonical form compared here: members in document order, strings by UTF-16 code unit,
/// numbers by exact decimal value (JSONValue keeps the literal, so 1e400 must stay 1e400).
final class JSONDifferentialTests: XCTestCase {
    /// Kinds the parser refuses though Python accepts them. Asserted, not skipped: the test
    /// fails if the parser starts accepting one, so a change of mind updates this table.
    static let declaredDifferences: [String: String] = [
        "duplicate_keys": "a report with two values for one key has no single meaning: the contract refuses it (docs/CONTRACTS.md)",
        "too_deep": "more than JSONParser.maximumDepth (64) levels is refused rather than risk the stack (docs/CONTRACTS.md)",
        "lone_surrogate": "an unpaired \\uD800-\\uDFFF escape is no Unicode scalar, so no Swift String can hold it",
    ]

    static let seed = 20_260_101
    static let count = 3000

    struct Case: Decodable {
        let doc: String
        let accept: Bool
        let value: String?
        let kind: String
    }

    func testAgreesWithPythonExceptWhereDeclared() throws {
        let corpus = NSTemporaryDirectory() + "\(TestEnvironment.unique("json-corpus")).jsonl"
        defer { try? FileManager.default.removeItem(atPath: corpus) }
        XCTAssertEqual(try runScript("python3 scripts/contracts/json_corpus.py --seed \(Self.seed) --count \(Self.count) > '\(corpus)'"), 0)
        let lines = try String(contentsOfFile: corpus, encoding: .utf8).split(separator: "\n")
        XCTAssertGreaterThanOrEqual(lines.count, Self.count)

        var agreed: [String: Int] = [:]
        var accepted: [String: Int] = [:]
        var differed: [String: Int] = [:]
        var disagreements: [String] = []
        for line in lines {
            let test = try JSONDecoder().decode(Case.self, from: Data(line.utf8))
            let doc = [UInt8](try XCTUnwrap(Data(base64Encoded: test.doc), test.doc))
            let python = test.accept ? try XCTUnwrap(test.value, "an accepted case without a value") : nil
            var parsed: JSONValue?
            var refusal = ""
            do throws(JSONParser.Failure) { parsed = try JSONParser.parse(doc) } catch { refusal = error.description }
            let swift = parsed.map(Canonical.text)

            if Self.declaredDifferences[test.kind] != nil {
                if test.accept, swift == nil { differed[test.kind, default: 0] += 1; continue }
            } else if swift == python {
                agreed[test.kind, default: 0] += 1
                if swift != nil { accepted[test.kind, default: 0] += 1 }
                if let parsed, let swift { checkWrittenBack(parsed, swift) }
                continue
            }
            let shown = String(reflecting: String(decoding: doc.prefix(120), as: UTF8.self))
            disagreements.append("\(test.kind) \(shown) (base64 \(test.doc.prefix(200))): "
                + "Swift \(said(swift, otherwise: "rejects: \(refusal)")), Python \(said(python, otherwise: "rejects"))")
        }
        for message in disagreements.prefix(20) { XCTFail(message) }
        XCTAssertEqual(disagreements.count, 0, "undeclared disagreements, the first 20 above")
        for kind in Self.declaredDifferences.keys { XCTAssertNotNil(differed[kind], "the corpus has no \(kind) case") }

        let agreements = agreed.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value) (\(accepted[$0.key, default: 0]) accepted)" }
        let differences = differed.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        print("json-differential: \(lines.count) cases (seed \(Self.seed)); agreements: \(agreements.joined(separator: ", ")); "
            + "declared differences: \(differences.joined(separator: ", "))")
    }

    private func said(_ value: String?, otherwise refusal: String) -> String {
        value.map { "accepts \($0.prefix(200))" } ?? refusal
    }

    /// What the parser accepted, written back, must parse to the same value.
    private func checkWrittenBack(_ value: JSONValue, _ expected: String) {
        let written = value.jsonBytes
        XCTAssertEqual(Canonical.text(try JSONParser.parse(written)), expected, String(decoding: written, as: UTF8.self))
    }
}

/// The corpus script's canonical text, built from a JSONValue.
private enum Canonical {
    static func text(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .number(let literal): number(literal)
        case .string(let s): quoted(s)
        case .array(let items): "[" + items.map(text).joined(separator: ",") + "]"
        case .object(let members): "{" + members.map { quoted($0.key) + ":" + text($0.value) }.joined(separator: ",") + "}"
        }
    }

    /// "-1.50e3" is "-15e2": the digits without leading or trailing zeros and a base-ten
    /// exponent; a zero of either sign is "0".
    static func number(_ literal: String) -> String {
        let parts = literal.drop { $0 == "-" }.split(omittingEmptySubsequences: false) { $0 == "e" || $0 == "E" }
        let halves = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        let fraction = halves.count > 1 ? halves[1] : ""
        var digits = Substring(halves[0] + fraction).drop { $0 == "0" }
        guard !digits.isEmpty else { return "0" }
        var shift = -fraction.count
        while digits.last == "0" { digits.removeLast(); shift += 1 }
        let exponent = sum(parts.count > 1 ? parts[1] : "0", shift)
        return (literal.hasPrefix("-") ? "-" : "") + digits + (exponent == "0" ? "" : "e" + exponent)
    }

    /// An exponent's digits plus a small shift, exactly: the exponent can outgrow an Int.
    static func sum(_ exponent: Substring, _ shift: Int) -> String {
        let negative = exponent.hasPrefix("-")
        let magnitude = exponent.drop { $0 == "-" || $0 == "+" || $0 == "0" }
        if magnitude.count <= 18 { return String((negative ? -1 : 1) * Int("0" + magnitude)! + shift) }
        // Then the sign cannot change: add to the last nine digits and carry into the rest.
        let low = Int(magnitude.suffix(9))! + (negative ? -shift : shift)
        let carry = low < 0 ? -1 : low >= 1_000_000_000 ? 1 : 0
        let lowDigits = String(low - carry * 1_000_000_000)
        return (negative ? "-" : "") + sum(magnitude.dropLast(9), carry) + String(repeating: "0", count: 9 - lowDigits.count) + lowDigits
    }

    /// As Python's json.dumps writes a string: ASCII only, by UTF-16 code unit, hex in lower case.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for unit in s.utf16 {
            switch unit {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x08: out += "\\b"
            case 0x0C: out += "\\f"
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(UInt8(unit)))
            default:
                let hex = String(unit, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
        }
        return out + "\""
    }
}
