import Foundation

/// A bad command line or configuration: printed with the command's usage, exit code 2.
public struct UsageError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public struct OptionSpec: Sendable {
    public let name: String
    /// nil for a flag that takes no value.
    public let valueName: String?
    public let help: String
    public let environment: String?
    public let defaultValue: String?
    public let repeatable: Bool

    public static func value(_ name: String, _ valueName: String, _ help: String, env: String? = nil,
                             default defaultValue: String? = nil, repeatable: Bool = false) -> OptionSpec {
        OptionSpec(name: name, valueName: valueName, help: help, environment: env, defaultValue: defaultValue, repeatable: repeatable)
    }

    public static func flag(_ name: String, _ help: String) -> OptionSpec {
        OptionSpec(name: name, valueName: nil, help: help, environment: nil, defaultValue: nil, repeatable: false)
    }
}

/// The parsed command line of one verb. Lookups fall back to the environment, then the default.
public struct ParsedArguments {
    public let positionals: [String]
    let values: [String: [String]]
    let flags: Set<String>
    let specs: [String: OptionSpec]
    let environment: [String: String]

    public func flag(_ name: String) -> Bool { flags.contains(name) }

    public func values(_ name: String) -> [String] { values[name] ?? [] }

    public func value(_ name: String) -> String? {
        if let given = values[name]?.last { return given }
        guard let spec = specs[name] else { return nil }
        if let env = spec.environment, let fromEnv = environment[env], !fromEnv.isEmpty { return fromEnv }
        return spec.defaultValue
    }

    public func required(_ name: String) throws(UsageError) -> String {
        guard let value = value(name), !value.isEmpty else {
            let env = specs[name]?.environment.map { " (or set \($0))" } ?? ""
            throw UsageError("--\(name) is required\(env)")
        }
        return value
    }

    public func int(_ name: String, range: ClosedRange<Int>) throws(UsageError) -> Int? {
        guard let text = value(name) else { return nil }
        guard let number = Int(text), range.contains(number) else {
            throw UsageError("--\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
        }
        return number
    }

    public func choice<E: RawRepresentable & CaseIterable>(_ name: String, as: E.Type) throws(UsageError) -> E?
    where E.RawValue == String {
        guard let text = value(name) else { return nil }
        guard let parsed = E(rawValue: text) else {
            throw UsageError("--\(name) must be one of \(E.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
        }
        return parsed
    }
}

public struct CommandSpec: Sendable {
    public let path: [String]
    public let summary: String
    public let positionals: [(name: String, help: String)]
    public let options: [OptionSpec]
    public let run: @Sendable (ParsedArguments) throws -> Int32

    public init(_ path: [String], _ summary: String, positionals: [(name: String, help: String)] = [], options: [OptionSpec] = [],
                run: @escaping @Sendable (ParsedArguments) throws -> Int32) {
        self.path = path
        self.summary = summary
        self.positionals = positionals
        self.options = options
        self.run = run
    }

    public var usage: String {
        var text = "usage: cascade \(path.joined(separator: " "))"
        for p in positionals { text += " \(p.name)" }
        if !options.isEmpty { text += " [options]" }
        text += "\n\n\(summary)\n"
        if !positionals.isEmpty {
            text += "\narguments:\n"
            for p in positionals { text += "  \(p.name.padding(toLength: 26, withPad: " ", startingAt: 0)) \(p.help)\n" }
        }
        text += "\noptions:\n"
        for o in options + [.flag("help", "show this help")] {
            let left = "--\(o.name)" + (o.valueName.map { " \($0)" } ?? "")
            var right = o.help
            if let env = o.environment { right += " [env \(env)]" }
            if let d = o.defaultValue { right += " (default \(d))" }
            if o.repeatable { right += " (repeatable)" }
            text += "  \(left.padding(toLength: 26, withPad: " ", startingAt: 0)) \(right)\n"
        }
        return text
    }

    /// Parses `--name value`, `--name=value` and flags; `--` ends options.
    public func parse(_ arguments: [String], environment: [String: String]) throws(UsageError) -> ParsedArguments {
        let specs = Dictionary(uniqueKeysWithValues: options.map { ($0.name, $0) })
        var positionals: [String] = []
        var values: [String: [String]] = [:]
        var flags: Set<String> = []
        var index = 0
        var optionsEnded = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--" && !optionsEnded {
                optionsEnded = true
                continue
            }
            if optionsEnded || !argument.hasPrefix("--") {
                positionals.append(argument)
                continue
            }
            var name = String(argument.dropFirst(2))
            var inline: String?
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            guard let spec = specs[name] else { throw UsageError("unknown option --\(name)") }
            if spec.valueName == nil {
                if inline != nil { throw UsageError("--\(name) takes no value") }
                flags.insert(name)
                continue
            }
            let value: String
            if let inline {
                value = inline
            } else {
                guard index < arguments.count else { throw UsageError("--\(name) needs a value (\(spec.valueName!))") }
                value = arguments[index]
                index += 1
            }
            if values[name] != nil && !spec.repeatable { throw UsageError("--\(name) given more than once") }
            values[name, default: []].append(value)
        }
        if positionals.count != self.positionals.count {
            let expected = self.positionals.map(\.name).joined(separator: " ")
            throw UsageError(positionals.count < self.positionals.count
                ? "missing argument(s): expected \(expected)"
                : "unexpected argument '\(positionals[self.positionals.count])'")
        }
        return ParsedArguments(positionals: positionals, values: values, flags: flags, specs: specs, environment: environment)
    }
}

/// Picks the verb (the longest matching command path) and runs it.
public struct CommandLineTool {
    public let commands: [CommandSpec]

    public init(commands: [CommandSpec]) { self.commands = commands }

    public var overview: String {
        var text = "usage: cascade <command> [options]    (cascade <command> --help for more)\n\ncommands:\n"
        for c in commands {
            text += "  \(c.path.joined(separator: " ").padding(toLength: 26, withPad: " ", startingAt: 0)) \(c.summary)\n"
        }
        return text
    }

    public enum Resolution {
        case help(String)
        case run(CommandSpec, ParsedArguments)
    }

    public func resolve(_ arguments: [String], environment: [String: String]) throws(UsageError) -> Resolution {
        if arguments == ["help"] || arguments == ["--help"] || arguments == ["-h"] { return .help(overview) }
        if arguments.isEmpty { throw UsageError("a command is required") }
        let matches = commands.filter { arguments.starts(with: $0.path) }
        guard let command = matches.max(by: { $0.path.count < $1.path.count }) else {
            let groups = commands.filter { $0.path.first == arguments[0] }
            if !groups.isEmpty {
                let verbs = groups.map { $0.path.dropFirst().joined(separator: " ") }.joined(separator: ", ")
                if arguments.count > 1 && arguments[1] == "--help" { return .help(overview) }
                if arguments.count == 1 { throw UsageError("'\(arguments[0])' takes: \(verbs)") }
                throw UsageError("unknown command '\(arguments.prefix(2).joined(separator: " "))'; '\(arguments[0])' takes: \(verbs)")
            }
            throw UsageError("unknown command '\(arguments[0])'")
        }
        let rest = Array(arguments.dropFirst(command.path.count))
        if rest.contains("--help") || rest.contains("-h") { return .help(command.usage) }
        return .run(command, try command.parse(rest, environment: environment))
    }
}
