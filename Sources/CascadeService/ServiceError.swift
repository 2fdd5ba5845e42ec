import CascadeDomain

/// Failures of the service layer itself, each saying what happened (not dressed up as a
/// database error). `FailurePolicy` decides what each one leads to.
enum ServiceError: Error, CustomStringConvertible {
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
        case .brokenInvariant(let what): "a stored value breaks an invariant: \(what)"
        case .brokenSharedRow(let what): "a subscription or model row breaks an invariant: \(what)"
        case .missingRow(let what): "no row returned: \(what)"
        }
    }
}
