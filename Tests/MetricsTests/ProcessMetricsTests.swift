@testable import Metrics
import Foundation
import XCTest

final class ProcessMetricsTests: XCTestCase {
    private static let names = ["process_cpu_seconds_total", "process_open_fds", "process_max_fds", "process_virtual_memory_bytes",
                                "process_resident_memory_bytes", "process_start_time_seconds", "process_threads"]

    func testProcessMetricsRenderWithPlausibleValues() throws {
        #if os(Linux)
        let registry = MetricsRegistry()
        ProcessMetrics.register(in: registry)
        let text = registry.render()
        var values: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            values[String(parts[0])] = Double(parts[1])
        }
        XCTAssertEqual(Set(values.keys), Set(Self.names), text)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(values["process_cpu_seconds_total"]), 0)
        let resident = try XCTUnwrap(values["process_resident_memory_bytes"])
        XCTAssertGreaterThan(resident, 1_000_000, "a Swift test process holds more than a megabyte")
        XCTAssertGreaterThan(try XCTUnwrap(values["process_virtual_memory_bytes"]), resident)
        let start = try XCTUnwrap(values["process_start_time_seconds"])
        let now = Date().timeIntervalSince1970
        XCTAssertLessThanOrEqual(start, now + 1)
        XCTAssertGreaterThan(start, now - 86_400)
        let openFds = try XCTUnwrap(values["process_open_fds"])
        XCTAssertGreaterThanOrEqual(openFds, 3, "at least standard input, output and error")
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(values["process_max_fds"]), openFds)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(values["process_threads"]), 1)
        #else
        throw XCTSkip("process metrics come from /proc")
        #endif
    }

    func testOpenDescriptorsAreCountedWithoutTheOneUsedToCountThem() throws {
        #if os(Linux)
        // fcntl(F_GETFD) succeeds exactly on open descriptors: an independent count.
        let limit = Int32(min(try XCTUnwrap(maxFileDescriptors()), 65_536))
        let open = (0..<limit).filter { fcntl($0, F_GETFD) != -1 }.count
        XCTAssertEqual(countOpenFileDescriptors(), open)
        #else
        throw XCTSkip("process metrics come from /proc")
        #endif
    }

    func testThisProcessStatLineParses() throws {
        #if os(Linux)
        let stat = try XCTUnwrap(readProcFile("/proc/self/stat").flatMap(ProcSelfStat.init))
        XCTAssertGreaterThanOrEqual(stat.threads, 1)
        XCTAssertGreaterThan(stat.startTicks, 0)
        #else
        throw XCTSkip("process metrics come from /proc")
        #endif
    }
}
