import Foundation
import Postgres

/// Start-up waits for the broker and PostgreSQL, bounded and logged, so that a stack started
/// in any order (compose, a pod before its database) comes up without a restart.
public enum DependencyWait {
    /// Tries `attempt` once a second until it succeeds, `limit` passes, `stopRequested` says so,
    /// or a failure is one that waiting cannot cure (`isPermanent`). Logs the first failure and
    /// every fifth, and the recovery.
    public static func retrying<T>(_ dependency: String, at address: String, within limit: Duration,
                                   isPermanent: (any Error) -> Bool = { _ in false },
                                   stopRequested: () -> Bool = { false },
                                   _ attempt: () throws -> T) throws -> T {
        let deadline = ContinuousClock.now + limit
        var failures = 0
        while true {
            do {
                let result = try attempt()
                if failures > 0 { Log.info("\(dependency) reachable", ["address": address, "attempts": "\(failures + 1)"]) }
                return result
            } catch {
                failures += 1
                if isPermanent(error) { throw StartupFailure(description: "\(dependency) at \(address) refused us: \(error)") }
                if stopRequested() { throw StartupFailure(description: "stopped by a signal before \(dependency) answered") }
                if ContinuousClock.now >= deadline {
                    throw StartupFailure(description: "no answer from \(dependency) at \(address) within \(limit): \(error)")
                }
                if failures == 1 || failures % 5 == 0 {
                    Log.warning("waiting for \(dependency)", ["address": address, "error": "\(error)", "attempt": "\(failures)",
                                                             "gives_up_after_s": "\(limit.components.seconds)"])
                }
                Thread.sleep(forTimeInterval: 1)
            }
        }
    }

    /// A PostgreSQL session, waited for; refused credentials or a malformed URL end the wait at
    /// once. libpq's messages reach the log with the URL's password scrubbed (PostgresConnection).
    public static func database(_ url: String?, within limit: Duration,
                                stopRequested: () -> Bool = { false }) throws -> PostgresConnection {
        try retrying("PostgreSQL", at: DatabaseAddress.redacted(url), within: limit,
                     isPermanent: { ($0 as? PostgresError)?.isPermanentConnectFailure ?? false },
                     stopRequested: stopRequested) { try PostgresConnection(url: url) }
    }
}
