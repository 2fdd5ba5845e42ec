import CascadeDomain
import Kafka

/// What became of one message the relay sent.
enum MessageOutcome: Sendable {
    case delivered
    /// Refused for a reason sending again cannot fix (`KafkaError.isPermanentRefusal`): parked.
    case refused(KafkaError)
    /// Not delivered for a reason that may pass (broker down, timeout): the row is sent again.
    case failed
}

/// What to do with an outbox row once each of its messages has an outcome.
enum RowDisposition: Equatable {
    /// Delete the row, parking the messages refused for good (in the same transaction).
    case delete(parking: [ParkedAt])
    /// Keep the row for a later sweep: something failed that may pass.
    case keep

    /// A transient failure keeps the whole row (its delivered messages are sent again, with
    /// the same bytes and `event-id`); refusals alone never hold the row back.
    static func of(_ row: OutboxBatch, outcomes: [MessageOutcome]) -> RowDisposition {
        var parking: [ParkedAt] = []
        for (position, outcome) in outcomes.enumerated() {
            switch outcome {
            case .delivered: continue
            case .failed: return .keep
            case .refused(let error):
                parking.append(ParkedAt(row: row.id, position: position,
                                        parked: ParkedMessage(message: row.messages[position],
                                                              reason: "refused by the broker: \(error)")))
            }
        }
        return .delete(parking: parking)
    }
}

/// A parked message and the outbox row and position it came from.
struct ParkedAt: Equatable {
    let row: Int64
    let position: Int
    let parked: ParkedMessage
}

/// A row to delete once settled, with what it parks.
package struct SettledRow {
    let id: Int64
    let parking: [ParkedAt]

    package init(id: Int64) { self.init(id: id, parking: []) }
    init(id: Int64, parking: [ParkedAt]) {
        self.id = id
        self.parking = parking
    }
}

/// The relay's shared bookkeeping (behind its lock): rows handed over, rows in flight and
/// their messages' outcomes, rows settled and waiting to be deleted, and whether the relay is
/// live or catching up.
///
/// Live, rows handed over are sent as they come. A delivery failure or a hand-off with no room
/// leaves a row in the table while newer rows could still be sent, and a newer message for the
/// same key would overtake it. So either one makes the relay fall behind: nothing handed over
/// is sent any more (it is held, in order), and once nothing is in flight, sweeps publish the
/// table strictly in row order up to a bound (the last row id when the sweeping began, raised
/// by every hand-off dropped since) until one reads it to that bound. Then the held rows go out
/// and the relay is live again. A relay also starts behind, and falls behind when partitions are
/// assigned to it: rows a stopped or crashed member left must go out before anything new for
/// the same keys.
struct RelayState {
    var stopping = false
    var published = 0
    var failedDeliveries = 0
    var parked = 0
    /// Rows handed over to send at once (live only).
    private(set) var handedOff: [OutboxBatch] = []
    private var handedOffMessages = 0
    private(set) var catchingUp = true
    /// Rows handed over while catching up, in order; sent once the sweep has caught up.
    private(set) var held: [OutboxBatch] = []
    private var heldMessages = 0
    /// The last row id the catching-up sweeps must publish; nil until the first of them reads it.
    private(set) var catchUpBound: Int64?
    /// Rows a sweep claimed while catching up: it publishes them, so a hand-off of one arriving
    /// late (between its COMMIT and the hand-off) is not held and sent a second time.
    private var claimedWhileBehind: Set<Int64> = []
    /// Counts the hand-offs dropped (no room) and the bounds reset: a sweep that began before
    /// one of these cannot have caught up, since it read an older bound or missed that row.
    private(set) var changes = 0
    /// Set on falling behind after a failure: the relay purges the producer's queue once, so
    /// nothing queued behind a failed message is delivered ahead of it.
    var purgeDue = false
    /// Rows sent and not yet fully reported; a sweep must not claim these.
    var inFlight: [Int64: InFlightRow] = [:]
    /// Rows whose every message is delivered or refused for good, not yet deleted.
    var settled: [SettledRow] = []

    /// Updated in place for every delivery report (`inFlight[id]?.record`): copying it out and
    /// back, as a first version did, copied its arrays once per message, so a row of 1,000
    /// messages cost a million element copies and the drain lost a third of its rate.
    struct InFlightRow {
        let row: OutboxBatch
        private var reported: [Bool]
        /// Only what was not delivered; most rows have nothing here.
        private var notDelivered: [Int: MessageOutcome] = [:]
        private(set) var unsettled: Int

        init(_ row: OutboxBatch) {
            self.row = row
            reported = Array(repeating: false, count: row.messages.count)
            unsettled = row.messages.count
        }

        /// False when this message already had its outcome.
        mutating func record(_ outcome: MessageOutcome, at position: Int) -> Bool {
            guard !reported[position] else { return false }
            reported[position] = true
            unsettled -= 1
            if case .delivered = outcome {} else { notDelivered[position] = outcome }
            return true
        }

        var outcomes: [MessageOutcome] { row.messages.indices.map { notDelivered[$0] ?? .delivered } }
    }


    /// Rows of a committed transaction. `capacity` bounds the messages waiting in memory; a row
    /// beyond it waits in the table, and the relay falls behind to keep the order.
    mutating func handOff(_ rows: [OutboxBatch], capacity: Int) {
        for row in rows {
            if catchingUp {
                guard !claimedWhileBehind.contains(row.id) else { continue }
                guard heldMessages + row.messages.count <= capacity else { drop(row); continue }
                held.append(row)
                heldMessages += row.messages.count
            } else if handedOffMessages + row.messages.count <= capacity {
                handedOff.append(row)
                handedOffMessages += row.messages.count
            } else {
                fallBehind()
                drop(row)
            }
        }
    }

    private mutating func drop(_ row: OutboxBatch) {
        changes += 1
        if let bound = catchUpBound { catchUpBound = max(bound, row.id) }
    }

    /// The rows handed over so far, to send now (none while catching up).
    mutating func takeHandedOff() -> [OutboxBatch] {
        defer { handedOff = []; handedOffMessages = 0 }
        return handedOff
    }

    /// Stops sending what is handed over and holds it instead, until a sweep has caught up.
    /// After a failure (`purge`), what is still queued in the producer is failed too. Already
    /// behind, the bound is read again: rows may have been left since it was.
    mutating func fallBehind(purge: Bool = true) {
        if purge { purgeDue = true }
        guard !catchingUp else {
            catchUpBound = nil
            changes += 1
            return
        }
        catchingUp = true
        held = handedOff + held
        heldMessages += handedOffMessages
        handedOff = []
        handedOffMessages = 0
    }

    /// The bound a catching-up sweep read, unless it was reset meanwhile.
    mutating func setBound(_ bound: Int64, readAfter change: Int) {
        if catchingUp && catchUpBound == nil && changes == change { catchUpBound = bound }
    }

    /// Registers `row` as in flight, or holds it when the relay has fallen behind since the
    /// rows it belongs with were taken. False when held: the caller holds the rest after it too.
    mutating func beginSending(_ row: OutboxBatch) -> Bool {
        guard !catchingUp else { return false }
        inFlight[row.id] = InFlightRow(row)
        return true
    }

    /// Rows taken to send that the relay fell behind before sending: ahead of every row held
    /// since, and beyond the capacity if need be (they were within it when handed over).
    mutating func holdUnsent(_ rows: ArraySlice<OutboxBatch>) {
        held = Array(rows) + held
        heldMessages += rows.reduce(0) { $0 + $1.messages.count }
    }

    /// A sweep claimed these rows: it publishes them, so they are no longer held.
    mutating func claimed(_ ids: Set<Int64>) {
        guard catchingUp, !ids.isEmpty else { return }
        claimedWhileBehind.formUnion(ids)
        held.removeAll { row in
            guard ids.contains(row.id) else { return false }
            heldMessages -= row.messages.count
            return true
        }
    }

    /// After a catching-up sweep that read the table to its bound and published all it read:
    /// live again, with the held rows (newer than anything that sweep read) sent first. Refused
    /// if something changed since the sweep began (`changes`), or rows are in flight (they may
    /// yet fail, and would then be overtaken).
    mutating func catchUp(ifUnchangedSince change: Int) -> Bool {
        guard catchingUp, changes == change, inFlight.isEmpty else { return false }
        catchingUp = false
        catchUpBound = nil
        claimedWhileBehind = []
        handedOff = held + handedOff
        handedOffMessages += heldMessages
        held = []
        heldMessages = 0
        return true
    }

    /// Records one message's outcome; a row is settled when all of its messages have one.
    mutating func record(_ outcome: MessageOutcome, row id: Int64, position: Int) {
        guard inFlight[id]?.record(outcome, at: position) == true else { return }
        switch outcome {
        case .delivered: published += 1
        case .failed: failedDeliveries += 1; fallBehind()
        case .refused: break  // counted when parked
        }
        guard let entry = inFlight[id], entry.unsettled == 0 else { return }
        inFlight[id] = nil
        if case .delete(let parking) = RowDisposition.of(entry.row, outcomes: entry.outcomes) {
            settled.append(SettledRow(id: id, parking: parking))
        }
    }

    /// Rows a sweep must leave alone: this relay is publishing or deleting them.
    var busyRows: [Int64] { Array(inFlight.keys) + settled.map(\.id) }
}
