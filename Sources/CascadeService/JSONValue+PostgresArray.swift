import CascadeDomain
import Postgres

/// A JSON value as a `text[]` element (the statement casts it to jsonb), written straight from
/// the value: going through `description` built a String per value first, about 5,000
/// instructions per report (callgrind).
extension JSONValue: PostgresArrayElement {
    public static var postgresElementType: UInt32 { String.postgresElementType }
    public func appendPostgresBinary(to out: inout [UInt8]) { write(to: &out) }
}

/// A completed job's subscription outcomes as one `text[]` element (cast to jsonb), written
/// straight into the array: as a String first, about 4,000 instructions per report (callgrind).
struct OutcomesElement: PostgresArrayElement {
    let outcomes: [SubscriptionOutcome]
    static var postgresElementType: UInt32 { String.postgresElementType }
    func appendPostgresBinary(to out: inout [UInt8]) { SubscriptionOutcome.writeJSON(outcomes, appendingTo: &out) }
}
