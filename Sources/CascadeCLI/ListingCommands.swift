import CascadeDomain
import CascadeService
import Foundation

/// The listing verbs: what the registry holds, as JSON, bounded and in key order.
enum ListingCommands {
    static var all: [CommandSpec] { [modelList, versionList, jobList] }

    static let modelList = CommandSpec(
        ["model", "list"], "List models, by id, with their actions and how many versions each has.",
        options: [CommonOptions.databaseURL]
    ) { args in
        let models = try RegistryStore(db: try CommonOptions.connect(args)).models()
        CommonOptions.print(.array(models.map { m in
            .object([("model_id", .string(m.id)), ("actions", .array(m.actions.map(JSONValue.string))),
                     ("versions", .int(m.versions)), ("created_at", .string(Timestamp.iso8601(m.createdAt)))])
        }))
        return 0
    }

    static let versionList = CommandSpec(
        ["version", "list"], "List a model's versions, oldest first.",
        positionals: [("MODEL_ID", "the model")], options: [CommonOptions.databaseURL]
    ) { args in
        let model = args.positionals[0]
        guard let versions = try RegistryStore(db: try CommonOptions.connect(args)).versions(modelId: model) else {
            throw NotFound("no model \(model)", [("model_id", .string(model))])
        }
        CommonOptions.print(.array(versions.map { v in
            .object([("version", .string(v.version)), ("status", .string(v.status)), ("created_at", .string(Timestamp.iso8601(v.createdAt)))])
        }))
        return 0
    }

    static let jobList = CommandSpec(
        ["job", "list"], "List jobs in job-id order, a page at a time: pass a page's next_cursor to --cursor for the next.",
        options: [.value("model", "MODEL_ID", "only this model's jobs"),
                  .value("status", "STATUS", "only jobs in this status: pending, started, success or failure"),
                  .value("since", "TIME", "only jobs created since: an RFC 3339 time (2026-12-01T08:00:00Z) or an age (90s, 15m, 2h, 7d)"),
                  .value("limit", "N", "jobs per page, 1 to 1000", default: "100"),
                  .value("cursor", "CURSOR", "the next_cursor of the previous page"),
                  CommonOptions.databaseURL]
    ) { args in
        var filter = RegistryStore.JobFilter(modelId: args.value("model"), status: try args.choice("status", as: JobStatus.self))
        if let since = args.value("since") {
            guard let date = SinceTime.parse(since, now: Date()) else {
                throw UsageError("--since: '\(since)' is neither an RFC 3339 time (2026-12-01T08:00:00Z) nor an age (15m, 2h, 7d)")
            }
            filter.since = date
        }
        let page = try RegistryStore(db: try CommonOptions.connect(args))
            .jobs(filter, after: args.value("cursor"), limit: try args.int("limit", range: 1...1000)!)
        CommonOptions.print(.object([
            ("jobs", .array(page.jobs.map { job in
                .object([("job_id", .string(job.id)), ("model_id", .string(job.modelId)), ("model_version", .string(job.modelVersion)),
                         ("job_type", .string(job.type.rawValue)), ("status", .string(job.status.rawValue)),
                         ("created_at", .string(Timestamp.iso8601(job.createdAt))),
                         ("completed_at", job.completedAt.map { .string(Timestamp.iso8601($0)) } ?? .null)])
            })),
            ("next_cursor", page.nextCursor.map(JSONValue.string) ?? .null),
        ]))
        return 0
    }
}

/// `--since`: an RFC 3339 time, or an age counted back from now.
enum SinceTime {
    static func parse(_ text: String, now: Date) -> Date? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        if let unit = text.last, let scale = units[unit], let amount = Int(text.dropLast()), amount >= 0,
           text.dropLast().allSatisfy(\.isASCII) {
            return now.addingTimeInterval(-Double(amount) * scale)
        }
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}
