import Foundation
import HTTP
import Metrics
import Synchronization

/// Reads a consumer's `/metrics` once a second on its own thread, as Prometheus would, until
/// stopped; counts the scrapes and the failures.
final class MetricsScraper: Sendable {
    private let port: Int
    private let stopped = Atomic<Bool>(false)
    private let done = Mutex<(scrapes: Int, failures: Int, finished: Bool)>((0, 0, false))

    /// The port comes from the consumer's start-up line (`--http-listen 127.0.0.1:0`).
    init(_ consumer: ConsumerProcess) throws {
        port = try Self.port(of: consumer)
        Thread { [self] in
            while !stopped.load(ordering: .relaxed) {
                let ok = (try? HTTPGet.fetch(host: "127.0.0.1", port: port, path: "/metrics"))?.status == 200
                done.withLock { $0.scrapes += 1; if !ok { $0.failures += 1 } }
                Thread.sleep(forTimeInterval: 1)
            }
            done.withLock { $0.finished = true }
        }.start()
    }

    /// The consumer's HTTP port, from its start-up line.
    static func port(of consumer: ConsumerProcess) throws -> Int {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let found = consumer.log.range(of: #"\(port (\d+)\)"#, options: .regularExpression).flatMap({
                Int(consumer.log[$0].dropFirst(6).dropLast())
            }) { return found }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw HTTPGet.Failure(description: "no HTTP port in \(consumer.logPath)")
    }

    /// Reports the consumer has answered, by its `cascade_reports_total` (every code); nil when
    /// `/metrics` does not answer.
    static func answeredReports(port: Int) -> Int? {
        guard let metrics = try? HTTPGet.fetch(host: "127.0.0.1", port: port, path: "/metrics"), metrics.status == 200 else { return nil }
        return Int(ScrapedMetrics(parsing: metrics.body).sum("cascade_reports_total") ?? 0)
    }

    func stop() -> (scrapes: Int, failures: Int) {
        stopped.store(true, ordering: .relaxed)
        while !done.withLock({ $0.finished }) { Thread.sleep(forTimeInterval: 0.05) }
        return done.withLock { ($0.scrapes, $0.failures) }
    }
}
