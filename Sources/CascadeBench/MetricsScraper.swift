import Foundation
import HTTP
import Synchronization

/// Reads a consumer's `/metrics` once a second on its own thread, as Prometheus would, until
/// stopped; counts the scrapes and the failures.
final class MetricsScraper: Sendable {
    private let port: Int
    private let stopped = Atomic<Bool>(false)
    private let done = Mutex<(scrapes: Int, failures: Int, finished: Bool)>((0, 0, false))

    /// The port comes from the consumer's start-up line (`--http-listen 127.0.0.1:0`).
    init(_ consumer: ConsumerProcess) throws {
        let deadline = Date().addingTimeInterval(30)
        var found: Int?
        while found == nil && Date() < deadline {
            found = consumer.log.range(of: #"\(port (\d+)\)"#, options: .regularExpression).flatMap {
                Int(consumer.log[$0].dropFirst(6).dropLast())
            }
            if found == nil { Thread.sleep(forTimeInterval: 0.05) }
        }
        guard let found else { throw HTTPGet.Failure(description: "no HTTP port in \(consumer.logPath)") }
        port = found
        Thread { [self] in
            while !stopped.load(ordering: .relaxed) {
                let ok = (try? HTTPGet.fetch(host: "127.0.0.1", port: port, path: "/metrics"))?.status == 200
                done.withLock { $0.scrapes += 1; if !ok { $0.failures += 1 } }
                Thread.sleep(forTimeInterval: 1)
            }
            done.withLock { $0.finished = true }
        }.start()
    }

    func stop() -> (scrapes: Int, failures: Int) {
        stopped.store(true, ordering: .relaxed)
        while !done.withLock({ $0.finished }) { Thread.sleep(forTimeInterval: 0.05) }
        return done.withLock { ($0.scrapes, $0.failures) }
    }
}
