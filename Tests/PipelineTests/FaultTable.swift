import Foundation
import XCTest

/// The size a fault scenario runs at, and where its row of the table goes. `make faults` sets
/// CASCADE_FAULTS=full (the sizes docs/RELIABILITY.md quotes) and CASCADE_FAULTS_REPORT (a JSON
/// Lines file that scripts/fault-table.py turns into the table); `make test` runs a subset of
/// the scenarios, smaller, and skips the rest.
enum FaultRun {
    static let isFull = ProcessInfo.processInfo.environment["CASCADE_FAULTS"] == "full"

    static func size(subset: Int, full: Int) -> Int { isFull ? full : subset }

    /// Scenarios too long for `make test` run only in `make faults`.
    static func requireFullRun() throws {
        try XCTSkipUnless(isFull, "run by `make faults` (CASCADE_FAULTS=full)")
    }

    struct Row {
        var scenario: String
        var runs = 1
        var reports: Int
        var verdict: Oracle.Verdict
        /// Processes killed (by a failpoint or from outside), or made to fail.
        var crashes: Int
        /// From the last fault's end (a restart, the broker or database back) to everything
        /// applied and published, in seconds.
        var recoverySeconds: Double
        /// Figures the scenario measures beyond the table's columns.
        var measured: [String: Double] = [:]
    }

    static func record(_ row: Row) {
        var object: [String: Any] = [
            "scenario": row.scenario, "runs": row.runs, "reports": row.reports, "lost": row.verdict.lost,
            "duplicated_effects": row.verdict.duplicatedEffects, "dead_letters": row.verdict.deadLetters, "crashes": row.crashes,
            "recovery_s": (row.recoverySeconds * 10).rounded() / 10, "size": isFull ? "full" : "subset",
        ]
        for (name, value) in row.measured { object[name] = (value * 100).rounded() / 100 }
        let line = String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        print("fault-table: \(line)")
        guard let path = ProcessInfo.processInfo.environment["CASCADE_FAULTS_REPORT"] else { return }
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: path) else { return XCTFail("cannot write the fault table to \(path)") }
        do {
            try handle.seekToEnd()
            try handle.write(contentsOf: Data((line + "\n").utf8))
            try handle.close()
        } catch {
            XCTFail("cannot write the fault table to \(path): \(error)")
        }
    }
}
