/// The fields of `/proc/self/stat` that process metrics use, parsed by a pure function so the
/// tricky part (the command name) is tested with crafted lines. See proc(5).
struct ProcSelfStat: Equatable {
    /// Field 14 (utime) and 15 (stime), in clock ticks.
    var userTicks: UInt64
    var systemTicks: UInt64
    /// Field 20.
    var threads: UInt64
    /// Field 22: clock ticks after boot when the process started.
    var startTicks: UInt64
}

extension ProcSelfStat {
    /// Parses one stat line, or nil when it is not one. Field 2 is the command name in
    /// parentheses, and may itself contain spaces and ')': the fields resume after the LAST ')'.
    init?(_ line: String) {
        guard let close = line.lastIndex(of: ")") else { return nil }
        // After the ')' the fields are 3 (state), 4, ... so field n is at index n - 3.
        let fields = line[line.index(after: close)...].split(whereSeparator: { $0 == " " || $0 == "\n" })
        func field(_ n: Int) -> UInt64? { fields.count > n - 3 ? UInt64(fields[n - 3]) : nil }
        guard let utime = field(14), let stime = field(15), let threads = field(20),
              let start = field(22) else { return nil }
        self.init(userTicks: utime, systemTicks: stime, threads: threads, startTicks: start)
    }
}

/// `/proc/self/statm`: sizes in pages. See proc(5).
struct ProcSelfStatm: Equatable {
    /// Field 1 (size): the whole virtual address space.
    var virtualPages: UInt64
    /// Field 2 (resident).
    var residentPages: UInt64
}

extension ProcSelfStatm {
    init?(_ text: String) {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count >= 2, let size = UInt64(fields[0]), let resident = UInt64(fields[1]) else { return nil }
        self.init(virtualPages: size, residentPages: resident)
    }
}

/// The boot time (`btime`, seconds since the epoch) from the text of `/proc/stat`.
func bootTime(procStat text: String) -> UInt64? {
    for line in text.split(separator: "\n") {
        let words = line.split(separator: " ")
        if words.count == 2, words[0] == "btime" { return UInt64(words[1]) }
    }
    return nil
}
