import CascadeDomain
import CascadeService
import Foundation
import Kafka
import Postgres

enum CommonOptions {
    static let databaseURL = OptionSpec.value("database-url", "URL", "PostgreSQL URL (unset: libpq's PG* variables)", env: "DATABASE_URL")
    static let databaseWait = OptionSpec.value("database-wait", "SECONDS", "how long start-up waits for PostgreSQL before giving up",
                                                env: "CASCADE_DATABASE_WAIT", default: "60")
    static let brokers = OptionSpec.value("brokers", "HOSTS", "Kafka bootstrap servers, host:port,...", env: "CASCADE_BROKERS")
    static let kafkaConfig = OptionSpec.value("kafka-config", "KEY=VALUE",
                                              "any librdkafka property; also CASCADE_KAFKA_<PROPERTY> variables (see OPERATIONS.md)",
                                              repeatable: true)
    static let reportsTopic = OptionSpec.value("reports-topic", "TOPIC", "completion reports in", env: "CASCADE_REPORTS_TOPIC",
                                               default: TopicNames.defaults.reports)
    static let resultsTopic = OptionSpec.value("results-topic", "TOPIC", "result records out", env: "CASCADE_RESULTS_TOPIC",
                                               default: TopicNames.defaults.results)
    static let requestsTopic = OptionSpec.value("requests-topic", "TOPIC", "downstream job requests out", env: "CASCADE_REQUESTS_TOPIC",
                                                default: TopicNames.defaults.requests)
    static let deadLetterTopic = OptionSpec.value("dlq-topic", "TOPIC", "dead letters out", env: "CASCADE_DLQ_TOPIC",
                                                  default: TopicNames.defaults.deadLetters)
    static let topics = [reportsTopic, resultsTopic, requestsTopic, deadLetterTopic]

    static func topicNames(_ args: ParsedArguments) throws(UsageError) -> TopicNames {
        TopicNames(reports: try args.required("reports-topic"), results: try args.required("results-topic"),
                   requests: try args.required("requests-topic"), deadLetters: try args.required("dlq-topic"))
    }

    /// librdkafka properties from `CASCADE_KAFKA_*` variables, then `--kafka-config` flags,
    /// which win.
    static func kafkaOverrides(_ args: ParsedArguments) throws(UsageError) -> KafkaConfig {
        var config: KafkaConfig
        do { config = try KafkaConfig.fromEnvironment(args.environment) } catch { throw UsageError(error.message) }
        for item in args.values("kafka-config") {
            do { try config.apply(override: item) } catch { throw UsageError("--kafka-config: \(error.message)") }
        }
        return config
    }

    static func json(_ text: String?, option: String) throws(UsageError) -> JSONValue? {
        guard let text else { return nil }
        do {
            let value = try JSONParser.parse(text)
            guard value.isObject else { throw UsageError("--\(option) must be a JSON object") }
            return value
        } catch let error as JSONParser.Failure {
            throw UsageError("--\(option) is not valid JSON: \(error)")
        } catch {
            throw error as! UsageError
        }
    }

    static func connect(_ args: ParsedArguments) throws -> PostgresConnection {
        let db = try PostgresConnection(url: args.value("database-url"))
        try Migrator.migrate(db)
        return db
    }

    static func print(_ value: JSONValue) {
        FileHandle.standardOutput.write(Data((value.description + "\n").utf8))
    }
}
