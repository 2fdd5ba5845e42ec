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
/// their messages' outcomes, rows settled and waiting to be deleted.
struct RelayState {
    var stopping = false
    var published = 0
    var failedDeliveries = 0
    var parked = 0
    var handedOff: [OutboxBatch] = []
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

    mutating func send(_ row: OutboxBatch) { inFlight[row.id] = InFlightRow(row) }

    /// Records one message's outcome; a row is settled when all of its messages have one.
    mutating func record(_ outcome: MessageOutcome, row id: Int64, position: Int) {
        guard inFlight[id]?.record(outcome, at: position) == true else { return }
        switch outcome {
        case .delivered: published += 1
        case .failed: failedDeliveries += 1
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
