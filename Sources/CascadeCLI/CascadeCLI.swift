import CascadeDomain
import CascadeService
import Foundation
import Kafka
import Postgres

/// What a verb looked up does not exist: `{"error": "not_found", "message", ...ids}`, exit code 1.
struct NotFound: Error {
    let message: String
    let ids: [(key: String, value: JSONValue)]
    init(_ message: String, _ ids: [(key: String, value: JSONValue)]) {
        self.message = message
        self.ids = ids
    }
    var json: JSONValue { .object([("error", "not_found"), ("message", .string(message))] + ids) }
}

/// The `cascade` command: verbs, their exit codes (0 done, 1 failed, 2 bad usage or configuration).
public enum CascadeCLI {
    public static var tool: CommandLineTool {
        CommandLineTool(commands: ServiceCommands.all + RegistryCommands.all + ListingCommands.all + OperatorCommands.all
                        + ParkedCommands.all + [DemoCommand.demo])
    }

    /// Bumped with each release.
    public static let version = CascadeBuild.version

    public static func main(_ arguments: [String], environment: [String: String]) -> Int32 {
        // Every verb's Kafka clients log as JSON, each kind of line at most once per interval.
        KafkaLogRouting.install()
        if arguments == ["--version"] {
            CommonOptions.print(["cascade": .string(version), "librdkafka": .string(KafkaLibrary.versionString),
                                 "libpq": .string(PostgresLibrary.versionString)])
            return 0
        }
        let resolution: CommandLineTool.Resolution
        do {
            resolution = try tool.resolve(arguments, environment: environment)
        } catch {
            FileHandle.standardError.write(Data("cascade: \(error.message)\n\(tool.overview)".utf8))
            return 2
        }
        switch resolution {
        case .help(let text):
            FileHandle.standardOutput.write(Data(text.utf8))
            return 0
        case .run(let command, let args):
            do {
                return try command.run(args)
            } catch let missing as NotFound {
                // An answer like any other (JSON on standard output), and the reason on standard error.
                FileHandle.standardOutput.write(Data((missing.json.description + "\n").utf8))
                FileHandle.standardError.write(Data("cascade \(command.path.joined(separator: " ")): \(missing.message)\n".utf8))
                return 1
            } catch let error as UsageError {
                FileHandle.standardError.write(Data("cascade \(command.path.joined(separator: " ")): \(error.message)\n\n\(command.usage)".utf8))
                return 2
            } catch {
                FileHandle.standardError.write(Data("cascade \(command.path.joined(separator: " ")): \(error)\n".utf8))
                return 1
            }
        }
    }
}
