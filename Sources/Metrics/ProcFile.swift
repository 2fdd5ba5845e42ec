#if os(Linux)
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The text of a /proc file, or nil when it cannot be read. Read with plain read(2) until end
/// of file: /proc files report a size of 0, so nothing that trusts the size will do.
func readProcFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4096) { buffer -> String? in
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n == 0 { return String(decoding: bytes, as: UTF8.self) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            bytes.append(contentsOf: buffer.prefix(n))
        }
    }
}

/// How many file descriptors the process has open: the entries of /proc/self/fd, less the
/// one this count opens to read it.
func countOpenFileDescriptors() -> Int? {
    guard let dir = opendir("/proc/self/fd") else { return nil }
    defer { closedir(dir) }
    let own = dirfd(dir)
    var count = 0
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if let fd = Int32(name), fd != own { count += 1 }
    }
    return count
}

/// The soft limit on open file descriptors (RLIMIT_NOFILE).
func maxFileDescriptors() -> Double? {
    var limit = rlimit()
    guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
    return Double(limit.rlim_cur)
}
/// Another process's CPU time so far, user plus system, in seconds (the same stat parser as
/// the process metrics); nil once it is gone. For the benchmark and the fault suite, which
/// account the pipeline's processes.
package func processCPUSeconds(pid: pid_t) -> Double? {
    readProcFile("/proc/\(pid)/stat").flatMap(ProcSelfStat.init).map {
        Double($0.userTicks + $0.systemTicks) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
#endif
