#if os(Linux)
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
#endif

/// The standard `process_*` metrics every Prometheus client exports (CPU time, memory, file
/// descriptors, start time, threads), read from /proc at scrape time, with the same names and
/// help as the Go and Python clients so existing dashboards work.
public enum ProcessMetrics {
    /// Registers the process metrics in `registry`. On Linux all of them; elsewhere none,
    /// since there is no /proc to read them from.
    public static func register(in registry: MetricsRegistry) {
        #if os(Linux)
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        let stat: @Sendable () -> ProcSelfStat? = { readProcFile("/proc/self/stat").flatMap(ProcSelfStat.init) }
        let statm: @Sendable () -> ProcSelfStatm? = { readProcFile("/proc/self/statm").flatMap(ProcSelfStatm.init) }
        // Both parts are fixed for the life of the process, so read once.
        let startTime: Double? = {
            guard let boot = readProcFile("/proc/stat").flatMap(bootTime(procStat:)), let start = stat() else { return nil }
            return Double(boot) + Double(start.startTicks) / ticksPerSecond
        }()

        registry.collect("process_cpu_seconds_total", help: "Total user and system CPU time spent in seconds.", type: .counter) {
            stat().map { [Sample(Double($0.userTicks + $0.systemTicks) / ticksPerSecond)] } ?? []
        }
        registry.collect("process_open_fds", help: "Number of open file descriptors.", type: .gauge) {
            countOpenFileDescriptors().map { [Sample(Double($0))] } ?? []
        }
        registry.collect("process_max_fds", help: "Maximum number of open file descriptors.", type: .gauge) {
            maxFileDescriptors().map { [Sample($0)] } ?? []
        }
        registry.collect("process_virtual_memory_bytes", help: "Virtual memory size in bytes.", type: .gauge) {
            statm().map { [Sample(Double($0.virtualPages) * pageSize)] } ?? []
        }
        registry.collect("process_resident_memory_bytes", help: "Resident memory size in bytes.", type: .gauge) {
            statm().map { [Sample(Double($0.residentPages) * pageSize)] } ?? []
        }
        registry.collect("process_start_time_seconds", help: "Start time of the process since unix epoch in seconds.", type: .gauge) {
            startTime.map { [Sample($0)] } ?? []
        }
        registry.collect("process_threads", help: "Number of OS threads in the process.", type: .gauge) {
            stat().map { [Sample(Double($0.threads))] } ?? []
        }
        #endif
    }
}
