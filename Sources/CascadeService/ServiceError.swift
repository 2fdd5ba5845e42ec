import CascadeDomain

/// Failures of the service layer itself, each saying what happened (not dressed up as a
/// database error). `FailurePolicy` decides what each one leads to.
enum ServiceError: Error, CustomStringConvertible {
    /// Jobs locked by the batch were completed by someone else before its write (the status
    /// guard matched fewer rows): the batch is planned again on fresh data.
    case jobsChangedUnderBatch(expected: Int, updated: Int)
    /// A stored value breaks a domain invariant (a status no enum has, outcomes that are not
    /// outcomes). Retrying cannot fix it; applying the batch's reports one at a time isolates
    /// the report that reads it.
    case brokenInvariant(String)
    /// The same in a row every report of a model reads (a subscription, a model version):
    /// isolating would dead-letter them all, so nothing here can fix it.
    case brokenSharedRow(String)
    /// The database answered a statement without the row it must return.
    case missingRow(String)

    var description: String {
        switch self {
        case let .jobsChangedUnderBatch(expected, updated):
            "\(expected - updated) of \(expected) job(s) changed under the batch before its write"
        case .brokenInvariant(let what): "a stored value breaks an invariant: \(what)"
        case .brokenSharedRow(let what): "a subscription or model row breaks an invariant: \(what)"
        case .missingRow(let what): "no row returned: \(what)"
        }
    }
}
