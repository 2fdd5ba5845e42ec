#if canImport(Glibc)
import Glibc
#endif

// Connection cap policy: at `maxConnections`, a newcomer takes the place of the connection
// that matters least, in this order: one draining after its final response, then an idle one
// (keep-alive between requests, or one that has sent nothing), then the oldest unfinished
// request. Idle keep-alive connections may close at any time and clients retry; evicting the
// oldest unfinished request is what defeats a slowloris flood larger than the cap, since an
// honest client's request arrives at once and is answered long before it becomes the oldest.
// A connection accepted in the current loop iteration is not evicted either: it has not yet
// had a poll in which to be read, and under a flood it would otherwise be replaced within one
// batch of accepts before its request was ever looked at. Connections sending a response are
// never evicted; when no connection may be, newcomers wait in the kernel's backlog.
extension ServerLoop {
    func mayAccept() -> Bool {
        if acceptPausedUntil != nil { return false }
        return slots.count < maxConnections || evictionVictim() != nil
    }

    func acceptPending() {
        // Bounded so a connection flood cannot keep the loop from serving established clients.
        for _ in 0..<64 {
            guard mayAccept() else { return }
            let fd = acceptConnection(listener)
            if fd < 0 {
                switch errno {
                case EAGAIN, EWOULDBLOCK: return
                case EINTR, ECONNABORTED, EPROTO: continue
                // Out of descriptors or memory, or worse: the listener stays readable, so wait
                // a little rather than spin on it.
                default:
                    acceptPausedUntil = clock.now + .milliseconds(100)
                    return
                }
            }
            if slots.count >= maxConnections, let victim = evictionVictim() {
                close(victim)
                slots[victim] = nil
            }
            slots[fd] = Slot(connection: HTTPConnection(policy: policy, at: clock.now), acceptedIn: iteration)
            // A request sent right after the handshake is usually here already; reading it now
            // means an honest client is never a silent, evictable newcomer for long.
            readOnce(fd)
        }
    }

    private func evictionVictim() -> Int32? {
        for phase in [HTTPConnection.Phase.draining, .awaitingRequest, .readingRequest] {
            let candidate = slots.filter { $0.value.connection.phase == phase && $0.value.acceptedIn < iteration }
                .min { $0.value.connection.deadline < $1.value.connection.deadline }
            if let candidate { return candidate.key }
        }
        return nil
    }
}
