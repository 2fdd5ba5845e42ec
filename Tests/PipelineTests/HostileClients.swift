import Foundation
import Synchronization

/// Clients that misbehave against an HTTP port until stopped: some open a connection and
/// send half a request head, one byte at a time (slowloris), others send garbage, and others
/// connect and say nothing. Each runs on its own thread with blocking sockets and short
/// timeouts, so none of them can hang the test.
final class HostileClients: Sendable {
    private let port: Int
    private let stopped = Atomic<Bool>(false)
    private let opened = Atomic<Int>(0)
    private let running = Atomic<Int>(0)

    init(port: Int) { self.port = port }

    var connectionsOpened: Int { opened.load(ordering: .relaxed) }

    func start(threads: Int = 6) {
        for kind in 0..<threads {
            running.add(1, ordering: .relaxed)
            Thread { [self] in
                defer { running.subtract(1, ordering: .relaxed) }
                var held: [Int32] = []
                while !stopped.load(ordering: .relaxed) {
                    let fd = connectOnce()
                    guard fd >= 0 else { Thread.sleep(forTimeInterval: 0.01); continue }
                    opened.add(1, ordering: .relaxed)
                    switch kind % 3 {
                    case 0:  // slowloris: a byte of a head now and then, held open
                        _ = send(fd, "G", 1, Int32(MSG_NOSIGNAL))
                        held.append(fd)
                        if held.count > 40 { close(held.removeFirst()) }
                        for f in held { _ = send(f, "E", 1, Int32(MSG_NOSIGNAL)) }
                        Thread.sleep(forTimeInterval: 0.05)
                    case 1:  // garbage, then read whatever comes back and hang up
                        let junk = [UInt8]((0..<512).map { _ in UInt8.random(in: 0...255) })
                        _ = junk.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                        var buffer = [UInt8](repeating: 0, count: 1024)
                        _ = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                        close(fd)
                    default:  // silent: connect and say nothing
                        held.append(fd)
                        if held.count > 40 { close(held.removeFirst()) }
                        Thread.sleep(forTimeInterval: 0.02)
                    }
                }
                held.forEach { close($0) }
            }.start()
        }
    }

    /// Stops every client and waits for their threads (each wakes within its socket timeout);
    /// false when one is still running after 10 s.
    @discardableResult
    func stop() -> Bool {
        stopped.store(true, ordering: .relaxed)
        let deadline = Date().addingTimeInterval(10)
        while running.load(ordering: .relaxed) > 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        return running.load(ordering: .relaxed) == 0
    }

    private func connectOnce() -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return -1 }
        var tv = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 { close(fd); return -1 }
        return fd
    }
}
