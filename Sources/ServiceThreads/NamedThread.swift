import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Starts a dedicated thread for blocking work (librdkafka, libpq, sockets), named so that
/// `top -H` and `perf` show which one is busy (Foundation's `Thread.name` does not reach the
/// kernel). A module of its own, below Kafka and HTTP, so that every thread Cascade starts is named.
public func startServiceThread(_ name: String, _ body: @escaping @Sendable () -> Void) {
    let thread = Thread {
        nameCurrentThread(name)
        body()
    }
    thread.name = name
    thread.start()
}

/// Linux keeps 15 bytes of a thread's name; elsewhere this does nothing.
private func nameCurrentThread(_ name: String) {
    #if os(Linux)
    let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { return }
    defer { close(fd) }
    let bytes = Array(name.utf8.prefix(15))
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    #endif
}
