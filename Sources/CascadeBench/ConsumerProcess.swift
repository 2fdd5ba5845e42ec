import Foundation

/// `cascade consume` as the benchmark runs it: a child process with its output in a log file.
/// Foundation's Process is enough here: the child leaves no daemon behind to wait for.
final class ConsumerProcess {
    private let process = Process()
    let logPath: String

    init(_ executable: String, _ arguments: [String], logPath: String) throws {
        self.logPath = logPath
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    var pid: pid_t { process.processIdentifier }

    func signal(_ sig: Int32) { kill(pid, sig) }

    @discardableResult
    func wait() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
}
