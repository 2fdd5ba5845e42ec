/// The four topics Cascade uses; each can be renamed (`--reports-topic` and the others).
public struct TopicNames: Sendable, Equatable {
    public var reports: String
    public var results: String
    public var requests: String
    public var deadLetters: String

    public static let defaults = TopicNames(reports: "pie.job-completions", results: "pie.job-completion-results",
                                            requests: "pie.job-requests", deadLetters: "pie.job-completions.dlq")

    public init(reports: String, results: String, requests: String, deadLetters: String) {
        self.reports = reports
        self.results = results
        self.requests = requests
        self.deadLetters = deadLetters
    }

    /// Every topic Cascade reads or writes, the reports first.
    public var all: [String] { [reports, results, requests, deadLetters] }
    /// The topics Cascade writes.
    public var outputs: [String] { [results, requests, deadLetters] }
}
