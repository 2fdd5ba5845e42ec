import Foundation

/// CPU time (user plus system) of processes on this machine, from /proc: to say which of the
/// pipeline's processes a slower run spent its time in.
public enum ProcessCPU {
    /// One process's CPU seconds so far (fields 14 and 15 of /proc/PID/stat, counted from the
    /// ')' that ends the command name, which may hold spaces); nil once it is gone.
    public static func seconds(pid: pid_t) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The CPU seconds of every live process whose command name starts with `name`.
    public static func seconds(named name: String) -> Double {
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap { pid_t($0) } ?? []
        return pids.reduce(0) { total, pid in
            guard let comm = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8), comm.hasPrefix(name) else { return total }
            return total + (seconds(pid: pid) ?? 0)
        }
    }
}
