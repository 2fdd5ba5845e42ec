#if canImport(Glibc)
import Glibc
#endif

// Connection cap policy: at `maxConnections`, a newcomer takes the place of the idle
// connection closest to its own timeout (a keep-alive connection between requests, or one that
// has sent nothing yet). Closing an idle connection loses nothing: clients expect keep-alive
// connections to close and retry on a fresh one. When every slot is busy mid-request the
// listener is left alone and newcomers wait in the kernel's backlog until a slot frees, which
// every timeout guarantees.
extension ServerLoop {
    func mayAccept() -> Bool {
        if let acceptPausedUntil, clock.now < acceptPausedUntil { return false }
        return slots.count < maxConnections || idleVictim() != nil
    }

    func acceptPending() {
        // Bounded so a connection flood cannot keep the loop from serving established clients.
        for _ in 0..<64 {
            guard mayAccept() else { return }
            let fd = acceptConnection(listener)
            if fd < 0 {
                switch errno {
                case EINTR, ECONNABORTED, EPROTO: continue
                // Out of descriptors or memory: the listener stays readable, so wait a little
                // rather than spin on it.
                case EMFILE, ENFILE, ENOBUFS, ENOMEM: acceptPausedUntil = clock.now + .milliseconds(100)
                default: break
                }
                return
            }
            acceptPausedUntil = nil
            if slots.count >= maxConnections, let victim = idleVictim() {
                close(victim)
                slots[victim] = nil
            }
            slots[fd] = Slot(connection: HTTPConnection(policy: policy, at: clock.now))
        }
    }

    private func idleVictim() -> Int32? {
        slots.filter { $0.value.connection.phase == .awaitingRequest }
            .min { $0.value.connection.deadline < $1.value.connection.deadline }?.key
    }
}
