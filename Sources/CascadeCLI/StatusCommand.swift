import CascadeService
import Foundation
import HTTP
import Metrics

/// `cascade status`: a member's `/metrics` and `/readyz`, read twice a moment apart, in a few
/// lines a person reads at a glance: readiness, lag, throughput by code, outbox, dependencies.
enum StatusCommand {
    static let status = CommandSpec(
        ["status"], "Show a running member's readiness, lag, throughput by code and outbox age, from its /metrics.",
        options: [.value("http", "ADDR:PORT", "the member's --http-listen address", env: "CASCADE_HTTP", default: "127.0.0.1:9464"),
                  .value("interval", "SECONDS", "time between the two scrapes that throughput is measured over", default: "1")]
    ) { args in
        let text = try args.required("http")
        let address: ListenAddress
        do { address = try ListenAddress.parse(text) } catch { throw UsageError("--http \(text): \(error)") }
        let host = address.host == "0.0.0.0" ? "127.0.0.1" : address.host == "::" ? "::1" : address.host
        let interval = try args.int("interval", range: 1...60)!
        func scrape() throws -> ScrapedMetrics {
            let answer = try HTTPGet.fetch(host: host, port: address.port, path: "/metrics")
            guard answer.status == 200 else { throw HTTPGet.Failure(description: "/metrics answered \(answer.status)") }
            return ScrapedMetrics(parsing: answer.body)
        }
        let before = try scrape()
        Thread.sleep(forTimeInterval: Double(interval))
        let after = try scrape()
        let ready = try HTTPGet.fetch(host: host, port: address.port, path: "/readyz")
        let lines = StatusView.lines(before: before, after: after, seconds: Double(interval),
                                     readiness: (ready.status == 200, ready.body), address: "\(host):\(address.port)")
        FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        return 0
    }
}

/// The lines `cascade status` prints, from two scrapes: pure, so a test pins them.
enum StatusView {
    static func lines(before: ScrapedMetrics, after: ScrapedMetrics, seconds: Double,
                      readiness: (ready: Bool, body: String), address: String) -> [String] {
        var lines: [String] = []
        let reasons = readiness.body.split(separator: "\n").joined(separator: "; ")
        lines.append("member \(address): " + (readiness.ready ? "ready" : "NOT READY (\(reasons))"))
        let partitions = Int(after.sum("cascade_assigned_partitions") ?? 0)
        if let lag = after.sum("cascade_consumer_lag_messages") {
            let oldest = after.max("cascade_consumer_lag_seconds").map { String(format: "%.1f s", $0) } ?? "unknown"
            lines.append("lag: \(Int(lag)) reports over \(partitions) partitions; oldest unapplied \(oldest)")
        } else {
            lines.append("lag: unknown (no partitions owned)")
        }
        let now = after.byLabel("cascade_reports_total", "code"), then = before.byLabel("cascade_reports_total", "code")
        let rates = now.keys.sorted().compactMap { code -> String? in
            let rate = ((now[code] ?? 0) - (then[code] ?? 0)) / seconds
            return rate > 0 || (now[code] ?? 0) > 0 ? "\(code) \(String(format: "%.0f", rate))/s (\(Int(now[code] ?? 0)) total)" : nil
        }
        lines.append("reports: " + (rates.isEmpty ? "none yet" : rates.joined(separator: ", ")))
        let rows = after.sum("cascade_outbox_rows").map { Int($0) }
        let age = after.sum("cascade_outbox_oldest_age_seconds").map { String(format: "%.1f s", $0) } ?? "unknown"
        let deliveries = after.byLabel("cascade_deliveries_total", "result")
        lines.append("outbox: \(rows.map(String.init) ?? "unknown") rows, oldest \(age); published \(Int(deliveries["published"] ?? 0)), "
            + "failed \(Int(deliveries["failed"] ?? 0)), parked \(Int(deliveries["parked"] ?? 0))")
        let dependencies = after.byLabel("cascade_dependency_reachable", "dependency").sorted { $0.key < $1.key }
            .map { "\($0.key) \($0.value == 1 ? "reachable" : "UNREACHABLE")" }
        lines.append("dependencies: " + dependencies.joined(separator: ", "))
        return lines
    }
}

enum OperatorCommands {
    static var all: [CommandSpec] { [LagCommand.lag, StatusCommand.status] }
}
