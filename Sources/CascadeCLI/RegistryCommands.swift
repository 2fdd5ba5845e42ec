import CascadeDomain
import CascadeService
import Foundation
import Postgres

enum RegistryCommands {
    static var all: [CommandSpec] {
        [migrate, modelCreate, versionCreate, subscriptionCreate, subscriptionList, subscriptionSetStatus, jobCreate, jobGet]
    }

    /// Run as an init container or a compose one-shot, it may start before PostgreSQL: it waits,
    /// as `consume` does.
    static let migrate = CommandSpec(["migrate"], "Apply the schema migrations that are missing (idempotent).",
                                     options: [CommonOptions.databaseURL, CommonOptions.databaseWait]) { args in
        let db = try DependencyWait.database(args.value("database-url"),
                                             within: .seconds(try args.int("database-wait", range: 1...3600)!))
        let applied = try Migrator.migrate(db)
        CommonOptions.print(["applied": .array(applied.map { .int($0) }), "schema_version": .int(Migrator.latestVersion)])
        return 0
    }

    static let modelCreate = CommandSpec(
        ["model", "create"], "Create a model (or update its actions).",
        positionals: [("MODEL_ID", "the model's id")],
        options: [.value("actions", "LIST", "inference, training, both, or a comma-separated list", default: "inference"),
                  CommonOptions.databaseURL]
    ) { args in
        var actions = Set<JobType>()
        for word in try args.required("actions").split(separator: ",", omittingEmptySubsequences: false) {
            let name = word.trimmingCharacters(in: .whitespaces)
            if name == "both" { actions.formUnion(JobType.allCases); continue }
            guard let action = JobType(rawValue: name) else {
                throw UsageError("--actions: '\(name)' is not inference, training or both")
            }
            actions.insert(action)
        }
        let id = args.positionals[0]
        try RegistryStore(db: try CommonOptions.connect(args)).upsertModel(id: id, actions: actions)
        CommonOptions.print(["model_id": .string(id), "actions": .array(actions.map(\.rawValue).sorted().map(JSONValue.string))])
        return 0
    }

    static let versionCreate = CommandSpec(
        ["version", "create"], "Create a model version (or update its status).",
        positionals: [("MODEL_ID", "an existing model"), ("VERSION", "the version's name")],
        options: [.value("status", "STATUS", "pending, training, active or failed", default: "active"), CommonOptions.databaseURL]
    ) { args in
        let status = try args.choice("status", as: VersionStatus.self)!
        try RegistryStore(db: try CommonOptions.connect(args)).upsertVersion(modelId: args.positionals[0], version: args.positionals[1], status: status)
        CommonOptions.print(["model_id": .string(args.positionals[0]), "version": .string(args.positionals[1]), "status": .string(status.rawValue)])
        return 0
    }

    static let subscriptionCreate = CommandSpec(
        ["subscription", "create"], "Subscribe a target model to a source model's completions.",
        options: [.value("source", "MODEL_ID", "the model whose jobs trigger it"),
                  .value("target", "MODEL_ID", "the model that gets a new job"),
                  .value("action", "ACTION", "inference or training: the new job's type", default: "inference"),
                  .value("input-source", "SOURCE", "stored or trigger_output", default: "trigger_output"),
                  .value("input", "JSON", "the stored input (required with --input-source stored)"),
                  .value("trigger", "EVENT", "inference_complete or training_complete", default: "inference_complete"),
                  .value("label", "TEXT", "a name for people"),
                  .value("status", "STATUS", "active, paused or stale", default: "active"),
                  CommonOptions.databaseURL]
    ) { args in
        let inputSource = try args.choice("input-source", as: InputSource.self)!
        let input = try CommonOptions.json(args.value("input"), option: "input")
        if inputSource == .stored && input == nil { throw UsageError("--input is required with --input-source stored") }
        let subscription = try RegistryStore(db: try CommonOptions.connect(args)).createSubscription(
            sourceModelId: try args.required("source"), trigger: try args.choice("trigger", as: TriggerEvent.self)!,
            targetModelId: try args.required("target"), action: try args.choice("action", as: JobType.self)!,
            inputSource: inputSource, input: input, label: args.value("label"),
            status: try args.choice("status", as: SubscriptionStatus.self)!)
        CommonOptions.print(subscription.json)
        return 0
    }

    static let subscriptionList = CommandSpec(
        ["subscription", "list"], "List subscriptions, oldest first.",
        options: [.value("source", "MODEL_ID", "only those of this source model"), CommonOptions.databaseURL]
    ) { args in
        let subscriptions = try RegistryStore(db: try CommonOptions.connect(args)).subscriptions(sourceModelId: args.value("source"))
        CommonOptions.print(.array(subscriptions.map(\.json)))
        return 0
    }

    static let subscriptionSetStatus = CommandSpec(
        ["subscription", "set-status"], "Activate, pause or mark a subscription stale.",
        positionals: [("SUBSCRIPTION_ID", "the subscription's uuid"), ("STATUS", "active, paused or stale")],
        options: [CommonOptions.databaseURL]
    ) { args in
        guard let id = UUID(uuidString: args.positionals[0]) else { throw UsageError("'\(args.positionals[0])' is not a uuid") }
        guard let status = SubscriptionStatus(rawValue: args.positionals[1]) else {
            throw UsageError("STATUS must be active, paused or stale, got '\(args.positionals[1])'")
        }
        guard let updated = try RegistryStore(db: try CommonOptions.connect(args)).setSubscriptionStatus(id: id, status: status) else {
            throw NotFound("no subscription \(id.lowercasedText)", [("subscription_id", .string(id.lowercasedText))])
        }
        CommonOptions.print(updated.json)
        return 0
    }

    static let jobCreate = CommandSpec(
        ["job", "create"], "Create a job, as the platform does when it dispatches one.",
        options: [.value("model", "MODEL_ID", "the job's model"), .value("version", "VERSION", "the model version"),
                  .value("type", "TYPE", "inference or training", default: "inference"),
                  .value("status", "STATUS", "pending or started", default: "started"),
                  .value("input", "JSON", "the job's input"), .value("id", "JOB_ID", "the job id (default: a new uuid)"),
                  CommonOptions.databaseURL]
    ) { args in
        let status = try args.choice("status", as: JobStatus.self)!
        guard !status.isTerminal else { throw UsageError("--status must be pending or started; completion comes from reports") }
        let job = try RegistryStore(db: try CommonOptions.connect(args)).createJob(
            id: args.value("id") ?? UUID().lowercasedText, modelId: try args.required("model"),
            version: try args.required("version"), type: try args.choice("type", as: JobType.self)!, status: status,
            input: try CommonOptions.json(args.value("input"), option: "input"))
        CommonOptions.print(job.json(outcomes: []))
        return 0
    }

    static let jobGet = CommandSpec(
        ["job", "get"], "Show a job: status, output, error, timestamps, lineage and triggered outcomes.",
        positionals: [("JOB_ID", "the job's id")], options: [CommonOptions.databaseURL]
    ) { args in
        let store = RegistryStore(db: try CommonOptions.connect(args))
        guard let job = try store.job(id: args.positionals[0]) else {
            throw NotFound("no job \(args.positionals[0])", [("job_id", .string(args.positionals[0]))])
        }
        CommonOptions.print(job.json(outcomes: try store.outcomes(sourceJobId: job.id)))
        return 0
    }
}
