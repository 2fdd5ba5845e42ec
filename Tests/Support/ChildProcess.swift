import Foundation

/// A process started for a test (the `cascade` binary), with its output in a log file, killed
/// on demand with the signal the test chooses. posix_spawn + waitpid, not Foundation's Process,
/// so that SIGKILL and exit codes are exactly what the test sees.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    public let logPath: String
    private var exitStatus: Int32?

    public init(_ executable: String, _ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
                logPath: String) throws {
        self.logPath = logPath
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO) }
        self.pid = pid
    }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            _ = wait()
        }
    }

    public func signal(_ sig: Int32) { kill(pid, sig) }

    /// Waits for the process to end; returns its exit code (128+signal when killed).
    @discardableResult
    public func wait() -> Int32 {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let code = Self.exitCode(status)
        exitStatus = code
        return code
    }

    /// Waits at most `timeout` for the process to end; nil if it is still running.
    public func wait(timeout: TimeInterval) -> Int32? {
        if let exitStatus { return exitStatus }
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        repeat {  // at least once: wait(timeout: 0) asks "has it exited?"
            let done = waitpid(pid, &status, WNOHANG)
            if done == pid {
                let code = Self.exitCode(status)
                exitStatus = code
                return code
            }
            if Date() >= deadline { break }
            Thread.sleep(forTimeInterval: 0.05)
        } while true
        return nil
    }

    /// The exit code waitpid's status says, 128 + the signal for a process a signal ended.
    private static func exitCode(_ status: Int32) -> Int32 {
        (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
}
