#if canImport(Glibc)
import Glibc
#endif

// Connection cap policy: at `maxConnections`, a newcomer takes the place of the connection
// that matters least, in this order: one draining after its final response; an idle keep-alive
// connection (clients expect those to close and retry); one that has said nothing for longer
// than a round trip should take; the oldest unfinished request; last, a newcomer still within
// that grace. Evicting the oldest unfinished request is what defeats a slowloris flood larger
// than the cap: an honest client's request arrives at once and is answered before it could
// become the oldest. A connection accepted in the current loop iteration is never evicted (it
// has not had a poll in which to be read), nor is one sending a response; when no connection
// may be evicted, newcomers wait in the kernel's backlog.
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
            let now = clock.now
            slots[fd] = Slot(connection: HTTPConnection(policy: policy, at: now), acceptedIn: iteration, acceptedAt: now)
            // A request sent right after the handshake is usually here already; reading it now
            // means an honest client is never a silent, evictable newcomer for long.
            readOnce(fd)
        }
    }

    /// The evictable connection of the lowest rank, nearest its deadline within a rank, and the
    /// oldest of those: deadlines set in one turn of the loop are equal, and a tie must not be
    /// left to the dictionary's order.
    private func evictionVictim() -> Int32? {
        let now = clock.now
        return slots.compactMap { fd, slot -> (fd: Int32, rank: Int, deadline: ContinuousClock.Instant, accepted: ContinuousClock.Instant)? in
            guard slot.acceptedIn < iteration, let rank = evictionRank(slot, now: now) else { return nil }
            return (fd, rank, slot.connection.deadline, slot.acceptedAt)
        }.min { ($0.rank, $0.deadline, $0.accepted) < ($1.rank, $1.deadline, $1.accepted) }?.fd
    }

    private func evictionRank(_ slot: Slot, now: ContinuousClock.Instant) -> Int? {
        let connection = slot.connection
        switch connection.phase {
        case .draining: return 0
        case .awaitingRequest where !connection.isSilentNewcomer: return 1
        case .awaitingRequest where now - slot.acceptedAt >= silentNewcomerGrace: return 2
        case .readingRequest: return 3
        case .awaitingRequest: return 4
        case .sendingResponse, .closed: return nil
        }
    }
}

/// How long a newcomer may stay silent before it ranks below a half-sent request: an honest
/// client's request follows its handshake within a round trip, so one still silent after this
/// is most likely holding the slot on purpose.
private let silentNewcomerGrace: Duration = .milliseconds(100)
