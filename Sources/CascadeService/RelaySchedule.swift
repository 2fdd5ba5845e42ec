/// The relay's policy with no I/O: from its bookkeeping and the clock, what the next round
/// does after sending the rows handed over (OutboxRelay carries it out).
struct RelaySchedule {
    enum Step: Equatable {
        /// Park and delete the settled rows.
        case delete
        /// Stopping with deliveries outstanding: wait for their reports.
        case flush
        /// Claim rows in row order and publish them: old ones (left by a crash) when live, every
        /// one when catching up (RelayState).
        case sweep
        /// Nothing due: wait this long for a hand-off (zero: go round again at once).
        case wait(Duration)
        /// Stopping, and everything this relay could publish is out.
        case finish
    }

    /// What the relay's bookkeeping holds at the start of a round.
    struct Snapshot: Equatable {
        var now: ContinuousClock.Instant
        var sentRows: Bool
        var settledRows: Int
        var inFlightRows: Int
        var stopping: Bool
        var catchingUp = false
    }

    /// Settled rows are deleted in bulk once this many wait, or after deleteInterval.
    static let deleteBatch = 8
    static let deleteInterval: Duration = .milliseconds(50)
    static let sweepInterval: Duration = .seconds(1)
    /// Rows one sweep claims at most.
    static let sweepRowLimit = 16
    /// Catching up, between sweeps that found nothing to publish (another member holds the
    /// rows before them, or the table is empty but a hand-off was dropped meanwhile), and
    /// between polls for the deliveries still outstanding when the relay fell behind.
    static let catchUpPause: Duration = .milliseconds(20)

    private var lastDelete: ContinuousClock.Instant
    private var lastSweep: ContinuousClock.Instant?
    /// The last sweep claimed a full page and settled it all: more rows are probably waiting.
    private var moreToSweep = false
    private var sweptWhileStopping = false
    /// Catching up: when the next sweep is due.
    private var nextCatchUpSweep: ContinuousClock.Instant?

    init(now: ContinuousClock.Instant) { lastDelete = now }

    mutating func next(_ s: Snapshot) -> Step {
        if s.settledRows >= Self.deleteBatch || (s.settledRows > 0 && (s.now - lastDelete >= Self.deleteInterval || s.stopping)) {
            return .delete
        }
        if s.stopping && s.inFlightRows > 0 { return .flush }
        if s.stopping && sweptWhileStopping && !moreToSweep { return .finish }
        if s.catchingUp && !s.stopping {
            // Rows still in flight may yet fail, and must be swept before anything newer.
            if s.inFlightRows > 0 { return .wait(Self.catchUpPause) }
            let due = nextCatchUpSweep ?? s.now
            guard due > s.now else { return .sweep }
            return .wait(s.settledRows > 0 ? min(due - s.now, Self.deleteInterval) : due - s.now)
        }
        if s.stopping || moreToSweep || lastSweep.map({ s.now - $0 >= Self.sweepInterval }) ?? true { return .sweep }
        if s.sentRows { return .wait(.zero) }
        return .wait(s.settledRows > 0 ? Self.deleteInterval : Self.sweepInterval)
    }

    mutating func deleted(at now: ContinuousClock.Instant) { lastDelete = now }

    /// Live, a sweep that leaves rows (failures that may pass) does not ask for another at once:
    /// those rows come first in the next page, so an immediate sweep would only re-send them.
    /// Catching up, a sweep that published something is followed at once; one that found
    /// nothing, after a pause; one whose deliveries failed, after a second (the broker is away).
    mutating func swept(at now: ContinuousClock.Instant, claimed: Int, settled: Int, stopping: Bool) {
        lastSweep = now
        moreToSweep = claimed == Self.sweepRowLimit && settled == claimed
        if stopping { sweptWhileStopping = true }
        nextCatchUpSweep = settled < claimed ? now + Self.sweepInterval : claimed > 0 ? now : now + Self.catchUpPause
    }
}
