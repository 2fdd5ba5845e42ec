import CascadeDomain
import Foundation

/// Reports of awkward shapes near the 1 MiB limit: a wide `output` object, one long string,
/// the deepest nesting allowed, and many small numbers. A 110,000-member object once took 16 s
/// (a quadratic duplicate-key check). Each shape is timed at full size and at a quarter of it,
/// so `growth` near 4 shows the cost is linear in the size; 16 would be quadratic. Timed: the
/// parse alone, the whole validation (parse, ids, output), and writing `output` back as the
/// job's `jsonb` parameter, which are every step a report's bytes go through before PostgreSQL.
enum JSONShapes {
    struct Figure {
        let shape: String
        let bytes: Int
        let parseMs: Double
        let validateMs: Double
        let writeMs: Double
        /// Time at full size over time at a quarter, for validation (parse included).
        let growth: Double
    }

    static let shapes: [(name: String, output: @Sendable (Int) -> String)] = [
        ("wide_object", { n in "{" + (0..<n).map { #""k\#($0)":\#($0 % 10)"# }.joined(separator: ",") + "}" }),
        ("long_string", { n in #"{"text":""# + String(repeating: "a", count: n * 9) + #""}"# }),
        ("deep_nesting", { n in
            // 60 levels (the limit is 64 with the report around it), the rest as one wide array at the bottom.
            String(repeating: #"{"d":"#, count: 60) + "[" + (0..<n).map { _ in "1" }.joined(separator: ",") + "]"
                + String(repeating: "}", count: 60)
        }),
        ("small_numbers", { n in #"{"v":["# + (0..<n).map { "\($0 % 100).5" }.joined(separator: ",") + "]}" }),
    ]

    /// `members` is the full size (110,000 makes each shape about 1 MiB).
    static func run(members: Int = 110_000, rounds: Int = 3) -> [Figure] {
        shapes.map { shape in
            let full = report(shape.output(members))
            let quarter = report(shape.output(members / 4))
            let parse = best(rounds) { _ = try? JSONParser.parse(full) }
            let validate = best(rounds) { precondition(isValid(full), "\(shape.name) must be a valid report") }
            let validateQuarter = best(rounds) { precondition(isValid(quarter)) }
            let output = try! JSONParser.parse(full)["output"]!
            let write = best(rounds) { _ = output.description }
            return Figure(shape: shape.name, bytes: full.count, parseMs: parse, validateMs: validate, writeMs: write,
                          growth: validate / validateQuarter)
        }
    }

    private static func report(_ output: String) -> [UInt8] {
        Array(#"{"model_id":"m","model_version":"v1","job_id":"j","status":"success","output":\#(output)}"#.utf8)
    }

    private static func isValid(_ bytes: [UInt8]) -> Bool {
        let raw = RawReport(key: nil, value: bytes, headers: [], source: ReportSource(topic: "t", partition: 0, offset: 0))
        let limits = ReportLimits(maximumBytes: 4 << 20, maximumIdLength: 255)
        if case .success = ReportValidation.validate(raw, limits: limits) { return true }
        return false
    }

    private static func best(_ rounds: Int, _ body: () -> Void) -> Double {
        var fastest = Double.infinity
        for _ in 0..<rounds {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            fastest = min(fastest, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        return fastest
    }
}
