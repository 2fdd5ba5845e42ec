import Foundation
import Metrics

/// CPU time (user plus system) of processes on this machine, from /proc: to say which of the
/// pipeline's processes a slower run spent its time in.
public enum ProcessCPU {
    /// One process's CPU seconds so far; nil once it is gone.
    public static func seconds(pid: pid_t) -> Double? { processCPUSeconds(pid: pid) }

    /// The CPU seconds of every live process whose command name starts with `name`. Throws
    /// when /proc cannot be listed, rather than report no CPU at all.
    public static func seconds(named name: String) throws -> Double {
        let pids = try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap { pid_t($0) }
        return pids.reduce(0) { total, pid in
            // A process may end between the listing and this read: it is no longer counted.
            guard let comm = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8), comm.hasPrefix(name) else { return total }
            return total + (seconds(pid: pid) ?? 0)
        }
    }
}
