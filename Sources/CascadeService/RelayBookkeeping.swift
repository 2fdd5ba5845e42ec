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

    struct InFlightRow {
        let row: OutboxBatch
        var outcomes: [MessageOutcome?]
        var unsettled: Int

        init(_ row: OutboxBatch) {
            self.row = row
            outcomes = Array(repeating: nil, count: row.messages.count)
            unsettled = row.messages.count
        }
    }

    mutating func send(_ row: OutboxBatch) { inFlight[row.id] = InFlightRow(row) }

    /// Records one message's outcome; a row is settled when all of its messages have one.
    mutating func record(_ outcome: MessageOutcome, row id: Int64, position: Int) {
        guard var entry = inFlight[id], entry.outcomes[position] == nil else { return }
        entry.outcomes[position] = outcome
        entry.unsettled -= 1
        switch outcome {
        case .delivered: published += 1
        case .failed: failedDeliveries += 1
        case .refused: break  // counted when parked
        }
        guard entry.unsettled == 0 else { inFlight[id] = entry; return }
        inFlight[id] = nil
        if case .delete(let parking) = RowDisposition.of(entry.row, outcomes: entry.outcomes.map { $0! }) {
            settled.append(SettledRow(id: id, parking: parking))
        }
    }

    /// Rows a sweep must leave alone: this relay is publishing or deleting them.
    var busyRows: [Int64] { Array(inFlight.keys) + settled.map(\.id) }
}
