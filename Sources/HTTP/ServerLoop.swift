#if canImport(Glibc)
import Glibc
#endif

/// The `poll(2)` loop: carries out what each `HTTPConnection` asks for, on non-blocking sockets
/// only, so a slow or hostile client costs a slot and a little memory, never time. Owned by the
/// server thread and never shared, hence not `Sendable`.
final class ServerLoop {
    struct Slot {
        var connection: HTTPConnection
        /// The loop iteration that accepted it: a connection is not evicted before one poll
        /// has had the chance to read what it sent.
        let acceptedIn: UInt64
        let acceptedAt: ContinuousClock.Instant
        var shutDownOutput = false
    }

    let listener: Int32
    private let wakeReader: Int32
    let maxConnections: Int
    let policy: ConnectionPolicy
    private let respond: (HTTPRequest) -> HTTPResponse
    var slots: [Int32: Slot] = [:]
    var acceptPausedUntil: ContinuousClock.Instant?
    var iteration: UInt64 = 0
    private var readBuffer = [UInt8](repeating: 0, count: 16 * 1024)
    let clock = ContinuousClock()

    init(listener: Int32, wakeReader: Int32, maxConnections: Int, policy: ConnectionPolicy,
         handler: @escaping @Sendable (HTTPRequest) throws -> HTTPResponse) {
        self.listener = listener
        self.wakeReader = wakeReader
        self.maxConnections = max(1, maxConnections)
        self.policy = policy
        // A handler that throws costs its own request a 500, not the server.
        respond = { request in
            do { return try handler(request) } catch {
                return HTTPResponse(status: .internalServerError, text: "internal error\n")
            }
        }
    }

    /// Serves until a byte arrives on the wake socket, then closes every connection.
    func run() {
        defer { for fd in slots.keys { close(fd) } }
        while true {
            iteration += 1
            if let until = acceptPausedUntil, clock.now >= until { acceptPausedUntil = nil }
            let order = Array(slots.keys)
            var fds = [pollfd(fd: wakeReader, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: listener, events: mayAccept() ? Int16(POLLIN) : 0, revents: 0)]
            for fd in order { fds.append(pollfd(fd: fd, events: interest(slots[fd]!.connection), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), pollTimeout())
            // Other failures (EFAULT, EINVAL) are bugs in this loop; spinning on them helps no one.
            if ready < 0 && errno != EINTR && errno != ENOMEM { return }
            if fds[0].revents != 0 { return }
            for (index, fd) in order.enumerated() where fds[index + 2].revents != 0 {
                serviceSocket(fd, revents: Int32(fds[index + 2].revents))
            }
            if Int32(fds[1].revents) & Int32(POLLIN) != 0 { acceptPending() }
            let now = clock.now
            for fd in order { updateSlot(fd) { $0.timeElapsed(at: now) } }
            reapClosed()
        }
    }

    private func interest(_ connection: HTTPConnection) -> Int16 {
        var events: Int32 = 0
        if connection.wantsToRead { events |= Int32(POLLIN) }
        if !connection.pendingOutput.isEmpty { events |= Int32(POLLOUT) }
        return Int16(events)
    }

    private func pollTimeout() -> Int32 {
        let deadlines = slots.values.map(\.connection.deadline) + [acceptPausedUntil].compactMap { $0 }
        guard let next = deadlines.min() else { return -1 }
        let wait = max(.zero, next - clock.now)
        // Round up: waking a millisecond early would only find nothing expired and poll again.
        let milliseconds = wait.components.seconds * 1000 + (wait.components.attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: milliseconds)
    }

    private func serviceSocket(_ fd: Int32, revents: Int32) {
        if revents & Int32(POLLERR | POLLNVAL) != 0 { return updateSlot(fd) { $0.abort() } }
        if revents & Int32(POLLOUT) != 0 { flush(fd) }
        if revents & Int32(POLLIN | POLLHUP) != 0 {
            if slots[fd]?.connection.wantsToRead == true { readOnce(fd) } else if revents & Int32(POLLHUP) != 0 { updateSlot(fd) { $0.abort() } }
        }
    }

    /// One read per wake-up, so a fast sender cannot starve the other connections.
    func readOnce(_ fd: Int32) {
        let count = readBuffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        let now = clock.now
        if count > 0 {
            updateSlot(fd) { $0.received(readBuffer[0..<count], at: now, respond: respond) }
            flush(fd)
        } else if count == 0 {
            updateSlot(fd) { $0.inputDidEnd() }
        } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
            updateSlot(fd) { $0.abort() }
        }
    }

    /// Writes until the response is out or the socket is full; `poll` says when to go on.
    private func flush(_ fd: Int32) {
        while let pending = slots[fd]?.connection.pendingOutput, !pending.isEmpty {
            let count = pending.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
            if count > 0 {
                let now = clock.now
                updateSlot(fd) { $0.sent(count, at: now, respond: respond) }
            } else {
                if count < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR { updateSlot(fd) { $0.abort() } }
                return
            }
        }
    }

    private func updateSlot(_ fd: Int32, _ change: (inout HTTPConnection) -> Void) {
        guard slots[fd] != nil else { return }
        change(&slots[fd]!.connection)  // in place: a copy would duplicate the buffers
        if slots[fd]!.connection.phase == .draining && !slots[fd]!.shutDownOutput {
            // Our FIN tells the client the response is complete; reading on until its FIN
            // (or the linger time) keeps unread bytes from turning our close into a reset.
            shutdown(fd, Int32(SHUT_WR))
            slots[fd]!.shutDownOutput = true
        }
    }

    private func reapClosed() {
        for (fd, slot) in slots where slot.connection.phase == .closed {
            close(fd)
            slots[fd] = nil
        }
    }
}
