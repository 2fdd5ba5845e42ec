import Foundation
import TestSupport
import XCTest

/// The local services `make run` and `make test` start must outlive a Ctrl-C on the command
/// that started them: the terminal sends SIGINT to its whole foreground process group.
final class LocalServicesTests: XCTestCase {
    private func session(of pid: pid_t) throws -> pid_t {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // Fields after the command name, which is in parentheses and may hold spaces.
        let fields = stat[stat.range(of: ")", options: .backwards)!.upperBound...].split(separator: " ")
        return pid_t(fields[3])!  // state, ppid, pgrp, session
    }

    func testTheBrokerRunsInASessionOfItsOwn() throws {
        let pidFile = TestEnvironment.repositoryRoot.appendingPathComponent(".local/tansu/pid").path
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw XCTSkip("the broker was not started by scripts/services.sh here (CASCADE_BROKERS points elsewhere)")
        }
        XCTAssertEqual(try session(of: pid), pid, "the broker leads its own session")
        XCTAssertNotEqual(try session(of: pid), getsid(0), "a Ctrl-C to the starter's session would reach the broker")
    }
}
